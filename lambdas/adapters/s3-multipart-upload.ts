import { Upload } from '@aws-sdk/lib-storage';
import type { MultipartUpload } from './s3-object-store';

/** 8 MiB parts, two in flight: memory stays near 16 MiB whatever the file's size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/** Streams a body of any size into S3 with lib-storage: a multipart upload above one part, one PUT below it. */
export const multipartUpload: MultipartUpload = async (s3, params) => {
  await new Upload({ client: s3, params, partSize: PART_SIZE, queueSize: QUEUE_SIZE, leavePartsOnError: false }).done();
};

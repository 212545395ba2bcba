import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../adapters/s3-object-store';
import type { AwsContainer } from '../aws';

/** The output bucket, with the parts (streaming uploads, presigned URLs) the function passes in. */
export const objectStore = (container: AwsContainer, parts: ConstructorParameters<typeof S3ObjectStore>[2] = {}) =>
  new S3ObjectStore(container.traced(new S3Client({})), container.settings.bucketName, parts);

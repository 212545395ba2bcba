import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../adapters/s3-object-store';
import type { AwsContainer } from '../aws';
import type { RuntimeSettings } from '../settings';

type Parts = ConstructorParameters<typeof S3ObjectStore>[2];

/** The output bucket, with the parts (streaming uploads, presigned URLs) the function passes in. */
export const objectStore = (client: S3Client, settings: RuntimeSettings, parts: Parts = {}) =>
  new S3ObjectStore(client, settings.bucketName, parts);

/** The same, over a traced client of the function's own. */
export const objectStoreOf = (container: AwsContainer, parts: Parts = {}, config: S3ClientConfig = {}) =>
  objectStore(container.traced(new S3Client(config)), container.settings, parts);

/**
 * For a client that presigns uploads (PUT): checksums only where S3 requires them. By default the SDK puts the
 * CRC32 of the (empty) body it was given into a presigned PutObject URL, and S3 then refuses the client's real
 * bytes as a checksum mismatch (aws-sdk-js-v3#6994). DeleteObjects, which requires one, still gets it.
 */
export const PRESIGNING_UPLOADS: S3ClientConfig = { requestChecksumCalculation: 'WHEN_REQUIRED' };

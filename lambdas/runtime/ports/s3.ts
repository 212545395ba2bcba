import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../adapters/s3-object-store';
import type { AwsContainer } from '../aws';
import type { RuntimeSettings } from '../settings';

type Parts = ConstructorParameters<typeof S3ObjectStore>[2];

/** The output bucket, with the parts (streaming uploads, presigned URLs) the function passes in. */
export const objectStore = (client: S3Client, settings: RuntimeSettings, parts: Parts = {}) =>
  new S3ObjectStore(client, settings.bucketName, parts);

/** The same, over a traced client of the function's own. */
export const objectStoreOf = (container: AwsContainer, parts: Parts = {}) =>
  objectStore(container.traced(new S3Client({})), container.settings, parts);

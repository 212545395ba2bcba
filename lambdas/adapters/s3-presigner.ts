import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { PresignGet } from './s3-object-store';

/** A presigned URL, signed locally with the function's credentials (no request to S3). */
export const presignGet: PresignGet = (s3, command, expiresInSeconds, signedHeaders) =>
  getSignedUrl(s3, command, {
    expiresIn: expiresInSeconds,
    ...(signedHeaders ? { signableHeaders: new Set(signedHeaders) } : {}),
  });

import { type Readable, Transform } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore } from '../core/ports';

/** 8 MiB parts, two in flight: memory stays near 16 MiB whatever the file's size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** The most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async upload(key: string, body: Readable | Buffer, contentType: string): Promise<{ size: number }> {
    let size = 0;
    const counted = Buffer.isBuffer(body)
      ? body
      : body.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              size += chunk.length;
              done(null, chunk);
            },
          }),
        );
    if (Buffer.isBuffer(counted)) size = counted.length;
    // Errors of the source stream must fail the upload, not hang it: pipe() does not forward them.
    if (!Buffer.isBuffer(body)) body.once('error', (error) => (counted as Transform).destroy(error));
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: contentType },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    await upload.done();
    return { size };
  }

  /**
   * The disposition travels in the signed URL (`response-content-disposition`), decided when the URL is made:
   * it then also covers objects uploaded before the rule existed, and cannot be removed without breaking the
   * signature.
   */
  presignGet(key: string, expiresInSeconds: number, options: { inline?: boolean } = {}): Promise<string> {
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    const disposition = options.inline ? {} : { ResponseContentDisposition: `attachment; filename="${fileName}"` };
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key, ...disposition }), {
      expiresIn: expiresInSeconds,
    });
  }

  async remove(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const result = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      // DeleteObjects answers 200 even when some keys failed: those are listed in `Errors`.
      if (result.Errors?.length)
        throw new Error(
          `Deleting ${result.Errors.length} object(s) failed: ${result.Errors[0].Code} ${result.Errors[0].Key}`,
        );
    }
  }

  async putText(key: string, text: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: 'application/json' }),
    );
  }

  async getText(key: string): Promise<string> {
    const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return result.Body!.transformToString('utf8');
  }
}

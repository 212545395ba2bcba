import { type Readable, Transform } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore, ObjectTags } from '../core/ports';

/** The most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

/** Streams one body into the bucket (multipart when large): s3-multipart-upload.ts. */
export type MultipartUpload = (
  s3: S3Client,
  params: { Bucket: string; Key: string; Body: Readable | Buffer; ContentType: string; Tagging?: string },
) => Promise<void>;

/**
 * A presigned GET or PUT of one object: s3-presigner.ts. `signedHeaders` are signed as headers (not hoisted into
 * the query), so the request must carry them exactly.
 */
export type PresignGet = (
  s3: S3Client,
  command: GetObjectCommand | PutObjectCommand,
  expiresInSeconds: number,
  signedHeaders?: string[],
) => Promise<string>;

/** Tags as S3's `x-amz-tagging` header writes them (a URL query string), or nothing when there are none. */
const taggingOf = (tags: ObjectTags | undefined): { Tagging?: string } =>
  tags && Object.keys(tags).length > 0 ? { Tagging: new URLSearchParams(tags).toString() } : {};

/**
 * The output bucket. Streaming uploads (`@aws-sdk/lib-storage`) and presigned URLs (`@aws-sdk/s3-request-presigner`)
 * are passed in, each from its own module, by the functions that use them: a function that never streams an
 * upload (status, the webhook) does not load lib-storage at its cold start, and one that never hands out a URL
 * (the webhook, the consumer) does not load the presigner. Using one that was not passed in is a wiring mistake.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly parts: { multipartUpload?: MultipartUpload; presignGet?: PresignGet } = {},
  ) {}

  async upload(
    key: string,
    body: Readable | Buffer,
    contentType: string,
    tags?: ObjectTags,
  ): Promise<{ size: number }> {
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
    await this.part('multipartUpload')(this.s3, {
      Bucket: this.bucket,
      Key: key,
      Body: counted,
      ContentType: contentType,
      ...taggingOf(tags),
    });
    return { size };
  }

  /** Content-Type and Content-Length are signed: S3 refuses an upload of another type or length (403). */
  async presignPut(
    key: string,
    object: { contentType: string; size: number },
    expiresInSeconds: number,
  ): Promise<{ url: string; headers: Record<string, string> }> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentType: object.contentType,
      ContentLength: object.size,
    });
    const headers = { 'content-type': object.contentType, 'content-length': String(object.size) };
    const url = await this.part('presignGet')(this.s3, command, expiresInSeconds, Object.keys(headers));
    return { url, headers };
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * The disposition travels in the signed URL (`response-content-disposition`), decided when the URL is made:
   * it then also covers objects uploaded before the rule existed, and cannot be removed without breaking the
   * signature.
   */
  presignGet(key: string, expiresInSeconds: number, options: { inline?: boolean } = {}): Promise<string> {
    const fileName = key.slice(key.lastIndexOf('/') + 1);
    const disposition = options.inline ? {} : { ResponseContentDisposition: `attachment; filename="${fileName}"` };
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key, ...disposition });
    return this.part('presignGet')(this.s3, command, expiresInSeconds);
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

  async putText(key: string, text: string, tags?: ObjectTags): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: text,
        ContentType: 'application/json',
        ...taggingOf(tags),
      }),
    );
  }

  async getText(key: string): Promise<string> {
    const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return result.Body!.transformToString('utf8');
  }

  private part<Name extends keyof S3ObjectStore['parts']>(name: Name): NonNullable<S3ObjectStore['parts'][Name]> {
    const part = this.parts[name];
    if (!part) throw new Error(`S3ObjectStore: ${name} is not wired into this function (lambdas/functions/)`);
    return part;
  }
}

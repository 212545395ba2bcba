/**
 * Uploads: files a client sends straight to the bucket (a presigned PUT, no bytes through Lambda) and then names
 * in a job's input as `"upload:upl_…"`. Replicate never sees the reference: creating the prediction puts a
 * presigned GET URL of the file in its place; the stored job keeps the reference.
 */
import { InvalidRequest } from './errors';
import { fieldIssues, parseJsonBody, validationFailed } from './request-body';
import * as z from './schema';

/** A string of a job's input that names an upload: exactly the reference, nothing around it. */
const REFERENCE_PREFIX = 'upload:';
/** A job names at most this many distinct uploads (each costs a read and a write when it is submitted). */
export const MAX_UPLOADS_PER_JOB = 20;

/**
 * What may be uploaded: the inputs models take (images, audio, video, text, JSON, PDF, ZIP). Stored with this type,
 * so a file is never served as a page (no HTML, no SVG) from the bucket's origin.
 */
export const UPLOAD_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/bmp',
  'image/tiff',
  'audio/mpeg',
  'audio/wav',
  'audio/x-wav',
  'audio/ogg',
  'audio/flac',
  'audio/aac',
  'audio/mp4',
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
  'application/pdf',
  'application/zip',
] as const;

export const CreateUploadBody = z.strictObject({
  contentType: z.enum(UPLOAD_CONTENT_TYPES),
  /** Exact size in bytes: signed into the upload URL, so S3 refuses any other length. */
  size: z.number().check(z.int(), z.minimum(1)),
  /** Kept for the client's own records; never part of the key. */
  filename: z.optional(
    z.string().check(
      z.minLength(1),
      z.maxLength(255),
      z.refine((name) => ![...name].some((c) => c < ' ' || c === '\u007f'), 'must not contain control characters'),
    ),
  ),
});
export type CreateUploadBody = z.infer<typeof CreateUploadBody>;

/** Parses `POST /uploads`; `maxBytes` is the deployment's `maxUploadBytes`. */
export function parseCreateUpload(rawBody: string, maxBytes: number): CreateUploadBody {
  const parsed = CreateUploadBody.safeParse(parseJsonBody(rawBody));
  if (!parsed.success) throw validationFailed(fieldIssues(parsed.error));
  if (parsed.data.size > maxBytes)
    throw validationFailed([{ path: 'size', message: `must be at most ${maxBytes} bytes` }]);
  return parsed.data;
}

/** An upload named in a job's input: where (`input.image`, `input.frames.0`) and which. */
export interface UploadReference {
  path: string;
  uploadId: string;
}

/**
 * Every `upload:` reference in `input`, depth first. A string that starts with `upload:upl_` but is not a
 * well-formed id is a reference to no upload (`unknown_upload`), not text passed on to the model.
 */
export function findUploadReferences(input: Record<string, unknown>): UploadReference[] {
  const found: UploadReference[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      if (value.startsWith(`${REFERENCE_PREFIX}upl_`))
        found.push({ path, uploadId: value.slice(REFERENCE_PREFIX.length) });
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
    }
  };
  walk(input, 'input');
  return found;
}

/** The refusal for references that name no upload of the caller's that is complete and unexpired. */
export function unknownUploads(references: UploadReference[]): InvalidRequest {
  const details = references.map(({ path, uploadId }) => ({
    path,
    message: `${uploadId} is not an upload of yours that finished uploading and is still usable`,
  }));
  return new InvalidRequest(
    'unknown_upload',
    `Unknown upload: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
    details,
  );
}

/** The input with each reference replaced by `urls.get(uploadId)` (what Replicate is sent). */
export function resolveUploadReferences(
  input: Record<string, unknown>,
  urls: Map<string, string>,
): Record<string, unknown> {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.startsWith(REFERENCE_PREFIX) ? (urls.get(value.slice(REFERENCE_PREFIX.length)) ?? value) : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    }
    return value;
  };
  return walk(input) as Record<string, unknown>;
}

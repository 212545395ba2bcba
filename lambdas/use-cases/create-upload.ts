import { uploadKey } from '../../contract/bucket';
import { newUploadId } from '../core/ids';
import type { CreateUploadBody } from '../core/uploads';
import type { Dependencies } from './dependencies';

export interface UploadTicket {
  id: string;
  /** What to put in a job's input where the file goes. */
  reference: string;
  uploadUrl: string;
  method: 'PUT';
  /** Send exactly these headers (they are signed); HTTP clients set `content-length` from the body themselves. */
  headers: Record<string, string>;
  /** The upload URL stops working then. */
  expiresAt: string;
  /** The uploaded file is deleted then (`uploadRetention`); a job submitted later cannot use it. */
  usableUntil: string;
}

/**
 * `POST /uploads`: records the upload (its owner, until when it may be used) and signs a PUT of exactly its size
 * and type under the owner's prefix. The bytes go straight to S3; the record comes first, so no object can exist
 * that no record names.
 */
export async function createUpload(
  deps: Pick<Dependencies, 'uploads' | 'objects' | 'settings' | 'clock'>,
  owner: string,
  request: CreateUploadBody,
): Promise<UploadTicket> {
  const now = deps.clock();
  const { retentionDays, urlSeconds } = deps.settings.uploads;
  const id = newUploadId();
  const key = uploadKey(owner, id);
  const usableUntil = new Date(now.getTime() + retentionDays * 86_400_000).toISOString();
  await deps.uploads.create({
    id,
    owner,
    key,
    contentType: request.contentType,
    size: request.size,
    filename: request.filename,
    createdAt: now.toISOString(),
    expiresAt: usableUntil,
  });
  const { url, headers } = await deps.objects.presignPut(key, request, urlSeconds);
  return {
    id,
    reference: `upload:${id}`,
    uploadUrl: url,
    method: 'PUT',
    headers,
    expiresAt: new Date(now.getTime() + urlSeconds * 1000).toISOString(),
    usableUntil,
  };
}

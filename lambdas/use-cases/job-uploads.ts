import { uploadKey } from '../../contract/bucket';
import { UPLOAD_ID } from '../core/ids';
import type { Job } from '../core/job';
import { validationFailed } from '../core/request-body';
import { findUploadReferences, MAX_UPLOADS_PER_JOB, resolveUploadReferences, unknownUploads } from '../core/uploads';
import type { Dependencies } from './dependencies';

/** The distinct upload ids a job's input names. */
export const uploadIdsOf = (input: Record<string, unknown>): string[] => [
  ...new Set(findUploadReferences(input).map((reference) => reference.uploadId)),
];

/**
 * Before a job is written: every upload its input names must be the owner's, unexpired and completely uploaded;
 * each is then noted as used by the job (so deleting another job never deletes it). Throws `unknown_upload`
 * naming each field that is not, and nothing is left noted for the job unless `keepNotes` (an earlier attempt of
 * its Idempotency-Key, a failed submission, is recorded and still names its uploads).
 */
export async function useUploads(
  deps: Pick<Dependencies, 'uploads' | 'objects' | 'clock'>,
  owner: string,
  job: Pick<Job, 'id' | 'input'>,
  options: { keepNotes: boolean },
): Promise<void> {
  const references = findUploadReferences(job.input);
  if (references.length === 0) return;
  const ids = uploadIdsOf(job.input);
  if (ids.length > MAX_UPLOADS_PER_JOB) {
    throw validationFailed([{ path: 'input', message: `names more than ${MAX_UPLOADS_PER_JOB} uploads` }]);
  }
  const wellFormed = ids.filter((id) => UPLOAD_ID.test(id));
  const refused = new Set([
    ...ids.filter((id) => !UPLOAD_ID.test(id)),
    ...(await deps.uploads.reference(owner, wellFormed, job.id, deps.clock())),
  ]);
  // A recorded upload whose bytes never (fully) arrived has no object: the signed length makes S3 refuse a partial one.
  const sizes = await Promise.all(
    wellFormed
      .filter((id) => !refused.has(id))
      .map(async (id) => [id, await deps.objects.sizeOf(uploadKey(owner, id))] as const),
  );
  for (const [id, size] of sizes) if (size === undefined) refused.add(id);
  if (refused.size === 0) return;
  // No job is written: the uploads just noted as its own are not used by it.
  if (!options.keepNotes)
    await deps.uploads.forget(
      wellFormed.filter((id) => !refused.has(id)),
      job.id,
    );
  throw unknownUploads(references.filter((reference) => refused.has(reference.uploadId)));
}

/** Takes back `useUploads`' notes for a job whose submission was then refused (it was never written). */
export async function forgetUploads(deps: Pick<Dependencies, 'uploads'>, job: Pick<Job, 'id' | 'input'>) {
  const noted = uploadIdsOf(job.input).filter((id) => UPLOAD_ID.test(id));
  if (noted.length > 0 && noted.length <= MAX_UPLOADS_PER_JOB) await deps.uploads.forget(noted, job.id);
}

/**
 * The input Replicate is sent: each `upload:` reference replaced by a presigned GET of the file, valid as long as
 * the job may run (its timeout, counted from now, the create) and a margin for Replicate's own queue.
 */
export async function inputForReplicate(
  deps: Pick<Dependencies, 'objects' | 'settings'>,
  job: Pick<Job, 'owner' | 'input' | 'timeoutSeconds'>,
): Promise<Record<string, unknown>> {
  const ids = uploadIdsOf(job.input);
  if (ids.length === 0) return job.input;
  const validFor = (job.timeoutSeconds ?? deps.settings.jobTimeoutSeconds) + PRESIGN_MARGIN_SECONDS;
  const urls = new Map(
    await Promise.all(
      ids.map(
        async (id) =>
          [id, await deps.objects.presignGet(uploadKey(job.owner, id), validFor, { inline: true })] as const,
      ),
    ),
  );
  return resolveUploadReferences(job.input, urls);
}

/** Replicate may hold a prediction in its own queue before it fetches the input; an hour covers a cold boot. */
const PRESIGN_MARGIN_SECONDS = 3600;

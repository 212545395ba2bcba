import { NotFound } from '../core/errors';
import { JOB_ID } from '../core/ids';
import { isTerminal, storedKeysOf } from '../core/job';
import { cancel } from './cancel-job';
import type { Dependencies } from './dependencies';
import { uploadIdsOf } from './job-uploads';

/** A tombstone lives this long: any webhook, poll or copy of the job still in flight by then finds nothing to write. */
const TOMBSTONE_DAYS = 30;

/**
 * `DELETE /jobs/{id}`: everything stored for the job goes: its prediction is canceled if it still runs, then its
 * copied outputs, derivatives and large-output JSON, then the uploads its input named that no other job of the
 * owner uses, and last the job itself, replaced by a tombstone that answers 404 and refuses every late write.
 * Objects go before the record: a crash in between leaves the job visible and a retry deletes again (deleting a
 * missing object is no error). Idempotent: deleting a deleted job answers the same. Presigned URLs handed out
 * before stop working, since their objects are gone.
 */
export async function deleteJob(deps: Dependencies, owner: string, jobId: string): Promise<void> {
  const found = JOB_ID.test(jobId) ? await deps.jobs.get(jobId) : undefined;
  if (!found || found.owner !== owner) throw new NotFound('No such job');
  if (found.deletedAt) return;
  const job = isTerminal(found.status) ? found : await cancel(deps, found);
  await deps.objects.remove([...storedKeysOf(job.outputs), ...(job.outputKey ? [job.outputKey] : [])]);
  for (const uploadId of uploadIdsOf(job.input)) {
    const unused = await deps.uploads.release(uploadId, job.id);
    if (unused) await deps.objects.remove([unused.key]);
  }
  const now = deps.clock();
  const expiresAt = Math.floor(now.getTime() / 1000) + TOMBSTONE_DAYS * 86_400;
  if (!(await deps.jobs.replaceByTombstone(job.id, now.toISOString(), expiresAt))) {
    throw new Error(`Job ${job.id} could not be replaced by its tombstone`);
  }
  deps.log.info('job deleted', { jobId: job.id, owner, outputs: job.outputs.length });
}

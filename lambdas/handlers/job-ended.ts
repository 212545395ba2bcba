import type { Job } from '../core/job';
import { recordJobEnd } from '../core/metrics';
import type { Dependencies } from './dependencies';

/**
 * Everything that follows a job's terminal write, whichever path made it (webhook, poll, cancel, timeout,
 * failed submission). Only the writer whose conditional write succeeded calls this, so it runs once per job.
 * A crash before the slot is given back leaks it; the quota repairs leaks when an owner reaches the limit.
 */
export async function jobEnded(deps: Pick<Dependencies, 'metrics' | 'quota' | 'log'>, job: Job, options: { refundDaily?: boolean; now?: Date } = {}) {
  recordJobEnd(deps.metrics, job);
  try {
    await deps.quota.release(job.owner, options);
  } catch (error) {
    deps.log.warn('could not release the owner\'s in-flight slot; it is repaired when the owner reaches the limit', { jobId: job.id, owner: job.owner, error });
  }
}

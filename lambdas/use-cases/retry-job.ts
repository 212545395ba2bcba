import { Conflict } from '../core/errors';
import type { JobView } from '../core/job-view';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { type SubmitJobCommand, submitJob } from './submit-job';

/**
 * `POST /jobs/{id}/retry`: a new job with the failed or canceled job's request (model, version or deployment,
 * input, metadata, events, timeout, callback, derivatives, retention) and `retryOf` naming it, submitted as any job
 * is: the owner's limits apply, its uploads must still be usable, and an `Idempotency-Key` makes the retry itself
 * safe to repeat. A job still running or that succeeded is not retryable (409).
 */
export async function retryJob(
  deps: Dependencies,
  command: Omit<SubmitJobCommand, 'spec'> & { jobId: string },
): Promise<JobView> {
  const job = await ownedJob(deps, command.owner, command.jobId);
  if (job.status !== 'failed' && job.status !== 'canceled') {
    throw new Conflict('job_not_retryable', `Only a failed or canceled job can be retried; this one is ${job.status}`, {
      status: job.status,
    });
  }
  const { model, version, deployment, input, metadata, webhookEvents, timeoutSeconds, callbackUrl } = job;
  const { derivatives, retentionDays, callbackShape } = job;
  const spec = {
    ...{ model, version, deployment, input, metadata, webhookEvents, timeoutSeconds, callbackUrl, callbackShape },
    ...{ derivatives, retentionDays, retryOf: job.id },
  };
  return submitJob(deps, { ...command, spec });
}

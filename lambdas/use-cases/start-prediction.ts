import { InvalidRequest, ReplicateFailure, type RequestRefused } from '../core/errors';
import type { Job } from '../core/job';
import { METRIC } from '../core/metrics';
import type { Dependencies } from './dependencies';
import { endJob } from './end-job';
import { inputForReplicate } from './job-uploads';
import { replicateRefusal } from './replicate-refusal';

/**
 * Creates the job's prediction at Replicate and records its id; both submit (capacity free) and the admitter
 * (a job that waited) start a job here. A job canceled while its prediction was being created gets the
 * prediction canceled too, so it costs nothing. Throws Replicate's failure untouched: what it means depends
 * on who asked (see `settleFailedCreate`).
 */
export async function startPrediction(deps: Dependencies, job: Job): Promise<Job> {
  const timeoutSeconds = job.timeoutSeconds ?? deps.settings.jobTimeoutSeconds;
  const { id: predictionId } = await deps.replicate.createPrediction({
    model: job.model,
    version: job.version,
    deployment: job.deployment,
    // Replicate's own deadline at the job's: the prediction stops (and stops billing) even if our cancel is lost.
    cancelAfterSeconds: timeoutSeconds - (deps.clock().getTime() - Date.parse(job.createdAt)) / 1000,
    input: await inputForReplicate(deps, job),
    webhook: job.webhookUrl!,
    webhookEvents: job.webhookEvents,
  });
  const recorded = (await deps.jobs.recordPrediction(job.id, predictionId)) ?? { ...job, predictionId };
  deps.metrics.count(METRIC.jobsSubmitted);
  deps.log.info('job submitted', { jobId: job.id, predictionId, owner: job.owner, model: job.model });
  if (recorded.status === 'canceled' || recorded.deletedAt) await cancelOrphan(deps, job.id, predictionId);
  return recorded;
}

export const isThrottled = (error: unknown): error is ReplicateFailure =>
  error instanceof ReplicateFailure && error.kind === 'rate_limited';

/**
 * Replicate did not take the create (other than throttling it, which puts the job back to wait). What is left
 * depends on what its answer proves:
 *  - refused (422 its input, 404 its model): no prediction. The job fails, the slot is given back but the
 *    day's count is not, and the refusal counts against the owner's per-minute refusal limit: a key cannot
 *    spend the shared token's rate limit on requests Replicate refuses.
 *  - our token refused: no prediction, not the client's doing. The job fails retryable (an Idempotency-Key
 *    retry submits again) and the day's count is given back too.
 *  - a 5xx, a timeout, no connection: the prediction may exist and run. The job is left `queued` and keeps
 *    its slot: if the prediction exists its webhooks name the job and it goes on; if not, the reconciler
 *    fails it `submit_failed` (retryable) once SUBMIT_GRACE_SECONDS have passed with no word from Replicate.
 * `notify`: whether the client learns of it by callback (a job the admitter started) or already did, in the
 * answer to its submit. Answers what that submit answers.
 */
export async function settleFailedCreate(
  deps: Dependencies,
  job: Job,
  error: unknown,
  options: { notify: boolean },
): Promise<RequestRefused> {
  const failure =
    error instanceof ReplicateFailure ? error : new ReplicateFailure('unavailable', 'Replicate could not be reached');
  if (!(error instanceof ReplicateFailure)) deps.log.error('creating the prediction failed', { jobId: job.id, error });
  deps.log.warn('replicate refused the submission', { jobId: job.id, kind: failure.kind, status: failure.status });
  // The job id is in the details: the job can be read (and its Idempotency-Key retried).
  const details = { jobId: job.id, ...(failure.detail === undefined ? {} : { replicate: failure.detail }) };
  if (failure.kind === 'unavailable') {
    await deps.jobs.markSubmissionUnknown(job.id);
    return replicateRefusal(failure, { ...details, outcome: 'unknown' });
  }

  const refused = failure.kind === 'rejected' || failure.kind === 'not_found';
  await endJob(
    deps,
    job,
    { status: 'failed', error: { code: 'submit_failed', message: failure.message } },
    { unsubmittedOnly: true, retryableSubmission: !refused, refundDaily: !refused, notify: options.notify },
  );
  if (!refused) return replicateRefusal(failure, details);
  await deps.quota.recordRefusal(job.owner, deps.clock());
  return new InvalidRequest('replicate_rejected_input', failure.message, details);
}

/** The job was canceled while its prediction was being created: cancel the prediction too, so it costs nothing. */
async function cancelOrphan(deps: Dependencies, jobId: string, predictionId: string): Promise<void> {
  try {
    await deps.replicate.cancelPrediction(predictionId);
  } catch (error) {
    deps.log.warn('could not cancel the prediction of a job canceled during submit', { jobId, predictionId, error });
  }
}

import { Conflict, InvalidRequest, LimitExceeded, ReplicateFailure, type RequestRefused } from '../core/errors';
import { hashJson, IDEMPOTENCY_KEY, idempotentJobId, newJobId } from '../core/ids';
import type { Job, JobSpec } from '../core/job';
import type { JobView } from '../core/job-view';
import { METRIC } from '../core/metrics';
import type { Dependencies } from './dependencies';
import { endJob } from './end-job';
import { presentJob } from './present-job';
import { replicateRefusal } from './replicate-refusal';

export interface SubmitJobCommand {
  owner: string;
  spec: JobSpec;
  /** The client's `Idempotency-Key`, unchecked: 1–255 printable ASCII characters or `invalid_idempotency_key`. */
  idempotencyKey?: string;
  /** Where Replicate reaches the webhook: the public URL setting, else the API's URL as the client reached it. */
  apiBaseUrl: string;
}

/**
 * Submits a job: validate → record the job (conditional put) → create the prediction → record its id.
 *
 *   client ─► put job (queued) ─► predictions.create(webhook=…?job=id) ─► set predictionId ─► the job
 *              │ exists: same spec → that job;      │ refused → job failed, InvalidRequest
 *              │         other spec → Conflict      │ no answer / 5xx → job left queued, Unavailable
 */
export async function submitJob(deps: Dependencies, command: SubmitJobCommand): Promise<JobView> {
  const { owner, spec, idempotencyKey } = command;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new InvalidRequest('invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
  }
  const now = deps.clock();
  const job = newJob(owner, spec, idempotencyKey, now.toISOString());
  if (idempotencyKey) {
    // A retry of a request already accepted answers from the record, before it could be refused for quota.
    const existing = await deps.jobs.get(job.id);
    const retryable = existing?.status === 'failed' && existing.error?.code === 'submit_failed';
    if (existing && !retryable) return replay(deps, existing, job);
  }

  const quota = await deps.quota.acquire(owner, now);
  if (!quota.granted) {
    const what = {
      daily: 'jobs per day',
      in_flight: 'jobs in flight',
      refusals: 'submissions Replicate refused this minute',
    }[quota.limit];
    throw new LimitExceeded(
      'owner_limit_exceeded',
      `Too many ${what} for this API key`,
      { limit: quota.limit },
      quota.retryAfterSeconds,
    );
  }
  const outcome = await deps.jobs.create(job);
  if (!outcome.created) {
    await deps.quota.release(owner, { refundDaily: true, now });
    return replay(deps, outcome.existing, job);
  }

  const webhook = `${deps.settings.publicUrl ?? command.apiBaseUrl}/webhooks/replicate?job=${job.id}`;
  let predictionId: string;
  try {
    ({ id: predictionId } = await deps.replicate.createPrediction({ ...spec, webhook }));
  } catch (error) {
    throw await failSubmission(deps, job, error);
  }
  const recorded = (await deps.jobs.recordPrediction(job.id, predictionId)) ?? { ...job, predictionId };
  deps.metrics.count(METRIC.jobsSubmitted);
  deps.log.info('job submitted', { jobId: job.id, predictionId, owner, model: job.model });
  if (recorded.status === 'canceled') await cancelOrphan(deps, job.id, predictionId);
  return presentJob(deps, recorded);
}

function newJob(owner: string, spec: JobSpec, idempotencyKey: string | undefined, now: string): Job {
  return {
    id: idempotencyKey ? idempotentJobId(owner, idempotencyKey) : newJobId(),
    owner,
    status: 'queued',
    rank: 0,
    ...spec,
    outputs: [],
    error: null,
    requestHash: hashJson(spec),
    idempotencyKey,
    createdAt: now,
    updatedAt: now,
  };
}

/** An Idempotency-Key seen before: the same request gets the same job, a different one is a conflict. */
async function replay(deps: Dependencies, existing: Job, attempted: Job): Promise<JobView> {
  if (existing.owner !== attempted.owner || existing.requestHash !== attempted.requestHash) {
    throw new Conflict('idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
  }
  return presentJob(deps, existing);
}

/**
 * Replicate did not take the submission. What is left depends on what its answer proves:
 *  - refused (422 its input, 404 its model): no prediction. The job fails, the slot is given back but the
 *    day's count is not, and the refusal counts against the owner's per-minute refusal limit: a key cannot
 *    spend the shared token's rate limit on requests Replicate refuses.
 *  - throttled (429) or our token refused: no prediction, not the client's doing. The job fails retryable
 *    (an Idempotency-Key retry submits again) and the day's count is given back too.
 *  - a 5xx, a timeout, no connection: the prediction may exist and run. The job is left `queued` and keeps
 *    its slot: if the prediction exists its webhooks name the job and it goes on; if not, the reconciler
 *    fails it `submit_failed` (retryable) once SUBMIT_GRACE_SECONDS have passed with no word from Replicate.
 * The client gets the error now, so no callback is queued for a job ended here.
 */
async function failSubmission(deps: Dependencies, job: Job, error: unknown): Promise<RequestRefused> {
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
    { unsubmittedOnly: true, retryableSubmission: !refused, refundDaily: !refused, notify: false },
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

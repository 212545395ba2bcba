import { ApiError } from '../core/errors';
import { ReplicateFailure } from '../core/failures';
import { jsonResponse, type HttpResponse } from '../core/http';
import { hashJson, IDEMPOTENCY_KEY, idempotentJobId, newJobId } from '../core/ids';
import type { Job } from '../core/job';
import { METRIC } from '../core/metrics';
import { parseSubmitRequest, type SubmitRequest } from '../core/submit-request';
import { apiBaseUrl, failureResponse, header, ownerOf, rawBodyOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { endJob } from './job-ended';
import { replicateApiError } from './replicate-api-error';
import { presentJob } from './present-job';

/**
 * `POST /jobs`: validate → record the job (conditional put) → create the prediction → record its id.
 *
 *   client ─► put job (queued) ─► predictions.create(webhook=…?job=id) ─► set predictionId ─► 202
 *                 │ exists: same body → that job; other body → 409     │ refused → job failed, 4xx
 *                                                                      │ no answer / 5xx → job left queued, 502
 */
export const submitJob =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    try {
      const owner = ownerOf(event);
      const request = parseSubmitRequest(rawBodyOf(event), { callbackHttpsOnly: deps.settings.callbacks.httpsOnly });
      const idempotencyKey = header(event, 'idempotency-key');
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new ApiError('invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
      }
      const now = deps.clock();
      const job = newJob(owner, request, idempotencyKey, now.toISOString());
      if (idempotencyKey) {
        // A retry of a request already accepted answers from the record, before it could be refused for quota.
        const existing = await deps.jobs.get(job.id);
        if (existing && !(existing.status === 'failed' && existing.error?.code === 'submit_failed')) return await replay(deps, existing, job);
      }

      const quota = await deps.quota.acquire(owner, now);
      if (!quota.granted) {
        const what = { daily: 'jobs per day', in_flight: 'jobs in flight', refusals: 'submissions Replicate refused this minute' }[quota.limit];
        throw new ApiError('owner_limit_exceeded', `Too many ${what} for this API key`, { limit: quota.limit }, {
          'retry-after': String(quota.retryAfterSeconds),
        });
      }
      const outcome = await deps.jobs.create(job);
      if (!outcome.created) {
        await deps.quota.release(owner, { refundDaily: true, now });
        return await replay(deps, outcome.existing, job);
      }

      const webhook = `${deps.settings.publicUrl ?? apiBaseUrl(event)}/webhooks/replicate?job=${job.id}`;
      let predictionId: string;
      try {
        ({ id: predictionId } = await deps.replicate.createPrediction({ ...request, webhook }));
      } catch (error) {
        throw await failSubmission(deps, job, error);
      }
      const recorded = (await deps.jobs.recordPrediction(job.id, predictionId)) ?? { ...job, predictionId };
      deps.metrics.count(METRIC.jobsSubmitted);
      deps.log.info('job submitted', { jobId: job.id, predictionId, owner, model: job.model });
      if (recorded.status === 'canceled') await cancelOrphan(deps, job.id, predictionId);
      return await accepted(deps, recorded);
    } catch (error) {
      return failureResponse(deps.log, error);
    }
  };

function newJob(owner: string, request: SubmitRequest, idempotencyKey: string | undefined, now: string): Job {
  return {
    id: idempotencyKey ? idempotentJobId(owner, idempotencyKey) : newJobId(),
    owner,
    status: 'queued',
    rank: 0,
    ...request,
    outputs: [],
    error: null,
    requestHash: hashJson(request),
    idempotencyKey,
    createdAt: now,
    updatedAt: now,
  };
}

/** An Idempotency-Key seen before: the same request gets the same job, a different one is a conflict. */
async function replay(deps: Dependencies, existing: Job, attempted: Job): Promise<HttpResponse> {
  if (existing.owner !== attempted.owner || existing.requestHash !== attempted.requestHash) {
    throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
  }
  return accepted(deps, existing);
}

async function accepted(deps: Dependencies, job: Job): Promise<HttpResponse> {
  return jsonResponse(202, await presentJob(deps, job), { location: `/jobs/${job.id}` });
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
async function failSubmission(deps: Dependencies, job: Job, error: unknown): Promise<ApiError> {
  const failure =
    error instanceof ReplicateFailure ? error : new ReplicateFailure('unavailable', 'Replicate could not be reached');
  if (!(error instanceof ReplicateFailure)) deps.log.error('creating the prediction failed', { jobId: job.id, error });
  deps.log.warn('replicate refused the submission', { jobId: job.id, kind: failure.kind, status: failure.status });
  // The job id is in the details: the job can be read (and its Idempotency-Key retried).
  const details = { jobId: job.id, ...(failure.detail === undefined ? {} : { replicate: failure.detail }) };
  if (failure.kind === 'unavailable') {
    await deps.jobs.markSubmissionUnknown(job.id);
    return replicateApiError(failure, { ...details, outcome: 'unknown' });
  }

  const refused = failure.kind === 'rejected' || failure.kind === 'not_found';
  await endJob(
    deps,
    job,
    { status: 'failed', error: { code: 'submit_failed', message: failure.message } },
    { unsubmittedOnly: true, retryableSubmission: !refused, refundDaily: !refused, notify: false },
  );
  if (!refused) return replicateApiError(failure, details);
  await deps.quota.recordRefusal(job.owner, deps.clock());
  return new ApiError('replicate_rejected_input', failure.message, details);
}

/** The job was canceled while its prediction was being created: cancel the prediction too, so it costs nothing. */
async function cancelOrphan(deps: Dependencies, jobId: string, predictionId: string): Promise<void> {
  try {
    await deps.replicate.cancelPrediction(predictionId);
  } catch (error) {
    deps.log.warn('could not cancel the prediction of a job canceled during submit', { jobId, predictionId, error });
  }
}

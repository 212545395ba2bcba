import { ApiError } from '../core/errors';
import { ReplicateFailure } from '../core/failures';
import { jsonResponse, type HttpResponse } from '../core/http';
import { isTerminal, SUBMIT_GRACE_SECONDS, type Job } from '../core/job';
import { failureResponse, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { endJob } from './job-ended';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';
import { replicateApiError } from './replicate-api-error';

/**
 * `POST /jobs/{id}/cancel`: cancels the prediction at Replicate, then marks the job canceled. Idempotent:
 * canceling a canceled job answers it again. A job that already ended otherwise answers 409.
 */
export const cancelJob =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    try {
      const job = await ownedJob(deps, event);
      const canceled = isTerminal(job.status) ? job : await cancel(deps, job);
      if (canceled.status !== 'canceled') {
        throw new ApiError('job_already_finished', `The job already ended: it ${canceled.status}`, { status: canceled.status });
      }
      return jsonResponse(200, await presentJob(deps, canceled));
    } catch (error) {
      return failureResponse(deps.log, error);
    }
  };

async function cancel(deps: Dependencies, job: Job): Promise<Job> {
  if (!job.predictionId && job.submissionUnknown) {
    // A prediction may run that nothing could cancel once the job is ended (and its slot given back).
    const retryAfter = Math.max(1, SUBMIT_GRACE_SECONDS - Math.floor((deps.clock().getTime() - Date.parse(job.createdAt)) / 1000));
    throw new ApiError(
      'submission_pending',
      'Replicate\'s answer to this job\'s submission was lost: it can be canceled once its prediction is known, or it fails by itself',
      undefined,
      { 'retry-after': String(retryAfter) },
    );
  }
  if (job.predictionId) {
    try {
      await deps.replicate.cancelPrediction(job.predictionId);
    } catch (error) {
      // A prediction Replicate no longer knows cannot run on; anything else must not mark the job canceled
      // while the prediction may still be running (and billing).
      if (!(error instanceof ReplicateFailure)) throw error;
      if (error.kind !== 'not_found') throw replicateApiError(error);
    }
  }
  const outcome = await endJob(deps, job, { status: 'canceled', error: { code: 'prediction_canceled', message: 'Canceled by the client' } });
  if (outcome.applied) {
    deps.log.info('job canceled', { jobId: job.id, predictionId: job.predictionId, owner: job.owner });
    return outcome.job;
  }
  // It ended (or moved) meanwhile: answer with what it is now.
  const fresh = await deps.jobs.get(job.id);
  if (!fresh) throw new ApiError('not_found', 'No such job');
  return isTerminal(fresh.status) ? fresh : cancel(deps, fresh);
}

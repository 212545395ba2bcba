import { Conflict, NotFound, ReplicateFailure } from '../core/errors';
import { createAttemptedAt, isTerminal, type Job } from '../core/job';
import type { JobView } from '../core/job-view';
import { SUBMIT_GRACE_SECONDS } from '../core/limits';
import type { Dependencies } from './dependencies';
import { endJob } from './end-job';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';
import { replicateRefusal } from './replicate-refusal';

/**
 * Cancels the owner's job: the prediction at Replicate first, then the job is marked canceled. Idempotent:
 * canceling a canceled job answers it again. A job that already ended otherwise is a Conflict.
 */
export async function cancelJob(deps: Dependencies, owner: string, jobId: string): Promise<JobView> {
  const job = await ownedJob(deps, owner, jobId);
  const canceled = isTerminal(job.status) ? job : await cancel(deps, job);
  if (canceled.status !== 'canceled') {
    throw new Conflict('job_already_finished', `The job already ended: it ${canceled.status}`, {
      status: canceled.status,
    });
  }
  return presentJob(deps, canceled);
}

/** Cancels an unfinished job (its prediction first); answers the job as it ended, however it ended. */
export async function cancel(deps: Dependencies, job: Job): Promise<Job> {
  if (!job.predictionId && job.submissionUnknown) {
    // A prediction may run that nothing could cancel once the job is ended (and its slot given back).
    // The reconciler's grace runs from the create attempt: a job may have waited for capacity before it.
    const ageSeconds = Math.floor((deps.clock().getTime() - createAttemptedAt(job)) / 1000);
    throw new Conflict(
      'submission_pending',
      "Replicate's answer to this job's submission was lost: " +
        'it can be canceled once its prediction is known, or it fails by itself',
      undefined,
      Math.max(1, SUBMIT_GRACE_SECONDS - ageSeconds),
    );
  }
  if (job.predictionId) {
    try {
      await deps.replicate.cancelPrediction(job.predictionId);
    } catch (error) {
      // A prediction Replicate no longer knows cannot run on; anything else must not mark the job canceled
      // while the prediction may still be running (and billing).
      if (!(error instanceof ReplicateFailure)) throw error;
      if (error.kind !== 'not_found') throw replicateRefusal(error);
    }
  }
  const canceledByClient = { code: 'prediction_canceled', message: 'Canceled by the client' } as const;
  const outcome = await endJob(deps, job, { status: 'canceled', error: canceledByClient });
  if (outcome.applied) {
    deps.log.info('job canceled', { jobId: job.id, predictionId: job.predictionId, owner: job.owner });
    return outcome.job;
  }
  // It ended (or moved) meanwhile: answer with what it is now.
  const fresh = await deps.jobs.get(job.id);
  if (!fresh) throw new NotFound('No such job');
  return isTerminal(fresh.status) ? fresh : cancel(deps, fresh);
}

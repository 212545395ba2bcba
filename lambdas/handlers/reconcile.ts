import { ReplicateFailure } from '../core/failures';
import { isTerminal, STATUS_RANK, type Job } from '../core/job';
import { METRIC } from '../core/metrics';
import type { JobEnding } from '../core/ports';
import { jobStatusOf } from '../core/prediction';
import type { Dependencies } from './dependencies';
import { endJob } from './job-ended';
import { enqueuePrediction } from './enqueue-prediction';

/**
 * A submit that has not recorded a prediction after this long is dead: API functions time out at 29 s.
 * Its job is failed as retryable so an Idempotency-Key retry submits again.
 */
export const SUBMIT_GRACE_SECONDS = 60;
/** Jobs looked at per run; the rest wait for the next run (the oldest come first). */
export const RECONCILE_BATCH = 100;
const CONCURRENCY = 5;

export interface ReconcileReport {
  examined: number;
  polled: number;
  advanced: number;
  timedOut: number;
  abandoned: number;
}

/**
 * The reconciler, run on a schedule: looks at unfinished jobs that have been quiet too long (the sparse
 * active index, oldest first), and for each one
 *  - past its deadline: cancels the prediction and fails the job with `timeout`;
 *  - never submitted (submit died after writing the job): fails it `submit_failed`, retryable;
 *  - otherwise: polls Replicate and, if the prediction moved on, feeds it through the same queue and
 *    consumer as a webhook. Lost `start`/`output`/`completed` webhooks are therefore harmless.
 */
export const reconcile = (deps: Dependencies) => async (): Promise<ReconcileReport> => {
  const now = deps.clock();
  const quietSince = new Date(now.getTime() - deps.settings.reconcileAfterSeconds * 1000).toISOString();
  const ids = await deps.jobs.listQuiet(quietSince, RECONCILE_BATCH);
  const report: ReconcileReport = { examined: 0, polled: 0, advanced: 0, timedOut: 0, abandoned: 0 };
  let throttled = false;
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !throttled) {
      const job = await deps.jobs.get(ids[next++]);
      if (!job || isTerminal(job.status)) continue;
      report.examined++;
      try {
        await reconcileJob(deps, job, now, report);
      } catch (error) {
        if (error instanceof ReplicateFailure && error.kind === 'rate_limited') throttled = true; // try again next run
        deps.log.warn('reconciling a job failed', { jobId: job.id, predictionId: job.predictionId, error });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  deps.metrics.count(METRIC.reconciled, report.advanced);
  deps.log.info('reconciler run', { ...report, throttled });
  return report;
};

async function reconcileJob(deps: Dependencies, job: Job, now: Date, report: ReconcileReport): Promise<void> {
  const timeoutSeconds = job.timeoutSeconds ?? deps.settings.jobTimeoutSeconds;
  const ageSeconds = (now.getTime() - Date.parse(job.createdAt)) / 1000;

  if (ageSeconds > timeoutSeconds) {
    if (job.predictionId) await cancelQuietly(deps, job);
    const ended = await end(deps, job, { status: 'failed', error: { code: 'timeout', message: `The job did not finish within ${timeoutSeconds} s` } });
    if (ended) {
      report.timedOut++;
      deps.metrics.count(METRIC.jobsTimedOut);
    }
    return;
  }
  if (!job.predictionId) {
    if (ageSeconds < SUBMIT_GRACE_SECONDS) return;
    const message = 'The submission did not complete; retry with the same Idempotency-Key';
    const ended = await end(deps, job, { status: 'failed', error: { code: 'submit_failed', message } }, { unsubmittedOnly: true, retryableSubmission: true });
    if (ended) report.abandoned++;
    return;
  }
  const prediction = await deps.replicate.getPrediction(job.predictionId);
  report.polled++;
  const status = jobStatusOf(prediction);
  if (!status || STATUS_RANK[status] <= job.rank) return;
  const receivedAt = now.toISOString();
  await enqueuePrediction(deps, { source: 'poll', jobId: job.id, receivedAt }, JSON.stringify(prediction), `poll-${prediction.id}-${receivedAt}`);
  report.advanced++;
  deps.log.info('reconciler found progress', { jobId: job.id, predictionId: prediction.id, owner: job.owner, status: prediction.status });
}

async function end(
  deps: Dependencies,
  job: Job,
  ending: Omit<JobEnding, 'updatedAt'>,
  options?: { unsubmittedOnly?: boolean; retryableSubmission?: boolean },
): Promise<boolean> {
  const outcome = await endJob(deps, job, ending, options);
  if (outcome.applied) {
    deps.log.warn('reconciler ended a job', { jobId: job.id, predictionId: job.predictionId, owner: job.owner, code: ending.error.code });
  }
  return outcome.applied;
}

/** A timed-out prediction is canceled so it stops costing money; if that fails, the job still times out. */
async function cancelQuietly(deps: Dependencies, job: Job): Promise<void> {
  try {
    await deps.replicate.cancelPrediction(job.predictionId!);
  } catch (error) {
    deps.log.warn('could not cancel a timed-out prediction', { jobId: job.id, predictionId: job.predictionId, error });
  }
}

import { backlogOf } from '../core/admission';
import { ReplicateFailure } from '../core/errors';
import { takeFairly } from '../core/fair-share';
import { createAttemptedAt, isTerminal, type Job, STATUS_RANK } from '../core/job';
import {
  RECONCILE_CANDIDATES_PER_JOB,
  RECONCILE_CONCURRENCY,
  RECONCILE_RUN_BUDGET_MS,
  SUBMIT_GRACE_SECONDS,
} from '../core/limits';
import { METRIC } from '../core/metrics';
import type { JobEnding } from '../core/ports';
import { jobStatusOf } from '../core/prediction';
import { forEachBounded } from '../core/worker-pool';
import type { Dependencies } from './dependencies';
import { endJob } from './end-job';
import { enqueuePrediction } from './enqueue-prediction';

export interface ReconcileReport {
  examined: number;
  polled: number;
  advanced: number;
  timedOut: number;
  abandoned: number;
}

/**
 * The reconciler, run on a schedule: looks at unfinished jobs that have been quiet too long (the sparse
 * index of unfinished jobs, longest-quiet first), at most `reconcileBatchSize` per run shared fairly
 * between owners, and for each one
 *  - past its deadline: cancels the prediction and fails the job with `timeout`;
 *  - no prediction id SUBMIT_GRACE_SECONDS after it was created: fails it `submit_failed`, retryable;
 *  - otherwise: polls Replicate and, if the prediction moved on, feeds it through the same queue and
 *    consumer as a webhook. Lost `start`/`output`/`completed` webhooks are therefore harmless.
 * Each job examined goes to the back of the quiet order, so a backlog of N quiet jobs is examined in full
 * every ceil(N / batch) runs, whichever jobs stay quiet forever.
 */
export async function reconcile(deps: Dependencies): Promise<ReconcileReport> {
  const now = deps.clock();
  await watchAdmission(deps, now);
  const quietSince = new Date(now.getTime() - deps.settings.reconcileAfterSeconds * 1000).toISOString();
  const batch = deps.settings.reconcileBatchSize;
  const quiet = await deps.jobs.listQuiet(quietSince, batch * RECONCILE_CANDIDATES_PER_JOB);
  const ids = takeFairly(quiet, batch).map((job) => job.id);
  const report: ReconcileReport = { examined: 0, polled: 0, advanced: 0, timedOut: 0, abandoned: 0 };
  const stopBy = Date.now() + RECONCILE_RUN_BUDGET_MS;
  let throttled = false;
  const examine = async (id: string) => {
    const job = await deps.jobs.get(id);
    if (!job || isTerminal(job.status)) return;
    report.examined++;
    let open = true;
    try {
      open = await reconcileJob(deps, job, now, report);
    } catch (error) {
      if (error instanceof ReplicateFailure && error.kind === 'rate_limited') {
        throttled = true; // this job stays in front for the next run
        return;
      }
      deps.log.warn('reconciling a job failed', { jobId: job.id, predictionId: job.predictionId, error });
    }
    // Whatever came of it (nothing new, progress queued, an error), the job goes to the back of the order.
    if (open) await deps.jobs.markExamined(job.id, now.toISOString());
  };
  await forEachBounded(ids, RECONCILE_CONCURRENCY, examine, () => throttled || Date.now() >= stopBy);
  deps.metrics.count(METRIC.reconciled, report.advanced);
  deps.log.info('reconciler run', { ...report, throttled });
  return report;
}

/** Examines one job; false when it ended it (a finished job has left the quiet order by itself). */
async function reconcileJob(deps: Dependencies, job: Job, now: Date, report: ReconcileReport): Promise<boolean> {
  const timeoutSeconds = job.timeoutSeconds ?? deps.settings.jobTimeoutSeconds;
  const ageSeconds = (now.getTime() - Date.parse(job.createdAt)) / 1000;

  if (ageSeconds > timeoutSeconds) {
    if (job.predictionId) await cancelQuietly(deps, job);
    const ended = await end(deps, job, {
      status: 'failed',
      error: { code: 'timeout', message: `The job did not finish within ${timeoutSeconds} s` },
    });
    if (ended) {
      report.timedOut++;
      deps.metrics.count(METRIC.jobsTimedOut);
    }
    return !ended;
  }
  // A job waiting for capacity is the admitter's: only its timeout applies here.
  if (job.waitingSince) return true;
  if (!job.predictionId) {
    // Measured from when the create was attempted: a job may have waited long before it.
    if ((now.getTime() - createAttemptedAt(job)) / 1000 < SUBMIT_GRACE_SECONDS) return true;
    const message = 'The submission did not complete; retry with the same Idempotency-Key';
    const ended = await end(
      deps,
      job,
      { status: 'failed', error: { code: 'submit_failed', message } },
      { unsubmittedOnly: true, retryableSubmission: true },
    );
    if (ended) report.abandoned++;
    return !ended;
  }
  const prediction = await deps.replicate.getPrediction(job.predictionId);
  report.polled++;
  const status = jobStatusOf(prediction);
  if (!status || STATUS_RANK[status] <= job.rank) return true;
  const receivedAt = now.toISOString();
  await enqueuePrediction(
    deps,
    { source: 'poll', jobId: job.id, receivedAt },
    JSON.stringify(prediction),
    `poll-${prediction.id}-${receivedAt}`,
  );
  report.advanced++;
  deps.log.info('reconciler found progress', {
    jobId: job.id,
    predictionId: prediction.id,
    owner: job.owner,
    status: prediction.status,
  });
  return true;
}

/**
 * The waiting line's figures for the dashboard (its backlog, its oldest wait: the alarm reads these), and a
 * kick for the admitter whenever jobs wait: a lost kick or a crashed admitter costs at most one interval.
 */
async function watchAdmission(deps: Dependencies, now: Date): Promise<void> {
  const waiting = await deps.jobs.listWaiting();
  const backlog = backlogOf(waiting, now);
  deps.metrics.count(METRIC.admissionBacklog, backlog.waiting);
  deps.metrics.milliseconds(METRIC.admissionOldestWait, backlog.oldestWaitSeconds * 1000);
  if (backlog.waiting > 0) await deps.admissionKicks.send({ reason: 'reconciler' });
}

async function end(
  deps: Dependencies,
  job: Job,
  ending: Omit<JobEnding, 'updatedAt'>,
  options?: { unsubmittedOnly?: boolean; retryableSubmission?: boolean },
): Promise<boolean> {
  const outcome = await endJob(deps, job, ending, options);
  if (outcome.applied) {
    deps.log.warn('reconciler ended a job', {
      jobId: job.id,
      predictionId: job.predictionId,
      owner: job.owner,
      code: ending.error.code,
    });
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

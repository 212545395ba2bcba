import { isTerminal, type Job, type JobError, type JobStatus, STATUS_RANK } from './job';
import { jobStatusOf, type Prediction, predictionErrorMessage } from './prediction';
import { laterOf } from './time';

/** What the consumer must write when a prediction event moves a job forward. */
export interface JobPatch {
  status: JobStatus;
  rank: number;
  updatedAt: string;
  predictionId: string;
  startedAt?: string;
  completedAt?: string;
  error?: JobError | null;
  metrics?: Record<string, unknown>;
}

export type IgnoreReason = 'terminal' | 'stale' | 'duplicate' | 'unknown_status' | 'prediction_mismatch';

/**
 * The outcome of one prediction event for one job.
 * `advance` writes a non-terminal status; `finish` writes a terminal one (for `succeeded` only after
 * every output file is copied); `ignore` writes nothing, and the event is still acknowledged.
 */
export type Transition =
  | { kind: 'ignore'; reason: IgnoreReason }
  | { kind: 'advance'; patch: JobPatch }
  | { kind: 'finish'; patch: JobPatch };

type JobState = Pick<Job, 'status' | 'rank' | 'predictionId' | 'updatedAt' | 'startedAt'>;

/**
 * Decides what a prediction event means for a job. Pure and total: any event, in any order, any number of
 * times, yields a transition and never throws. The invariants it guarantees:
 *  - terminal statuses never change;
 *  - the rank only goes up (a late `start` after `completed` is `stale`);
 *  - an event for another prediction than the job's never touches it;
 *  - `updatedAt` never goes backwards.
 */
export function decide(job: JobState, prediction: Prediction, now: Date): Transition {
  if (job.predictionId && job.predictionId !== prediction.id) return { kind: 'ignore', reason: 'prediction_mismatch' };
  const target = jobStatusOf(prediction);
  if (!target) return { kind: 'ignore', reason: 'unknown_status' };
  if (isTerminal(job.status)) return { kind: 'ignore', reason: 'terminal' };
  const rank = STATUS_RANK[target];
  if (rank === job.rank) return { kind: 'ignore', reason: 'duplicate' };
  if (rank < job.rank) return { kind: 'ignore', reason: 'stale' };

  const nowIso = now.toISOString();
  const patch: JobPatch = {
    status: target,
    rank,
    updatedAt: laterOf(nowIso, job.updatedAt),
    predictionId: prediction.id,
    startedAt: job.startedAt ?? validIso(prediction.started_at) ?? (target === 'starting' ? undefined : nowIso),
  };
  if (!isTerminal(target)) return { kind: 'advance', patch };

  patch.completedAt = validIso(prediction.completed_at) ?? nowIso;
  patch.metrics = prediction.metrics ?? undefined;
  patch.error =
    target === 'succeeded'
      ? null
      : target === 'canceled'
        ? { code: 'prediction_canceled', message: 'The prediction was canceled' }
        : { code: 'prediction_failed', message: predictionErrorMessage(prediction) };
  return { kind: 'finish', patch };
}

function validIso(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

import type { Job, TerminalStatus } from './job';
import { costNanoUsd, type PriceTable, priceOf } from './prices';

/**
 * The usage ledger: per owner, per UTC day, how many jobs were accepted and how they ended, their predict time
 * and estimated cost. A job counts on the day it was submitted (its `createdAt`), as the daily quota counts it:
 * a job accepted at 23:59 that ends at 00:05 is part of the day it was accepted on, and a day's figures settle
 * once its last job has ended.
 */

/** One day of an owner's usage as stored: integers only (milliseconds, nano-dollars), so sums never drift. */
export interface DayUsage {
  submitted: number;
  succeeded: number;
  failed: number;
  canceled: number;
  predictMillis: number;
  costNanoUsd: number;
  /** Ended jobs with a known price (their cost is in `costNanoUsd`), and those without one. */
  pricedJobs: number;
  unpricedJobs: number;
}

export const EMPTY_DAY: DayUsage = {
  submitted: 0,
  succeeded: 0,
  failed: 0,
  canceled: 0,
  predictMillis: 0,
  costNanoUsd: 0,
  pricedJobs: 0,
  unpricedJobs: 0,
};

/**
 * One attempt of a job, as the ledger names it: its id and when its record was created. A submission that failed
 * retryably is created again under the same id by an Idempotency-Key retry, and that second attempt is counted too.
 */
export const attemptOf = (job: { id: string; createdAt: string }): string => `${job.id}@${job.createdAt}`;

/** What one ended job adds to its day. */
export interface EndedJobUsage {
  /** attemptOf the job. */
  attempt: string;
  day: string;
  outcome: TerminalStatus;
  predictMillis: number;
  /** Undefined when no price is known for its model. */
  costNanoUsd?: number;
}

/** The UTC day (`2026-11-29`) of an ISO timestamp or a date. */
export const usageDayOf = (at: string | Date): string => (typeof at === 'string' ? at : at.toISOString()).slice(0, 10);

/**
 * Replicate's `metrics.predict_time` (seconds, what it bills hardware-priced models by) in whole milliseconds;
 * 0 when absent (a prediction that never ran, a job that failed before Replicate took it).
 */
export function predictMillisOf(metrics: Record<string, unknown> | undefined): number {
  const seconds = metrics?.predict_time;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
}

/** What a job that has ended adds to the ledger, priced with the table in force when it ended. */
export function endedJobUsage(job: Job & { status: TerminalStatus }, prices: PriceTable): EndedJobUsage {
  const predictMillis = predictMillisOf(job.metrics);
  const price = priceOf(prices, job);
  return {
    attempt: attemptOf(job),
    day: usageDayOf(job.createdAt),
    outcome: job.status,
    predictMillis,
    ...(price ? { costNanoUsd: costNanoUsd(price, { predictMillis, outputs: job.outputs.length }) } : {}),
  };
}

import { secondsUntilNextDay } from './owner-limits';
import type { DayUsage } from './usage';

/**
 * An owner's daily budgets (optional fields of its OWNER_LIMITS entry): predict seconds and estimated cost of
 * the day's jobs. Checked at submit against what the ledger holds for today: jobs still running are not in it
 * yet (their predict time is known when they end), so an owner can pass a budget by what it has in flight
 * (at most `maxInFlight` jobs), never by more.
 */
export interface Budgets {
  maxPredictSecondsPerDay?: number;
  maxCostPerDayUsd?: number;
}

export type BudgetLimit = 'daily_predict_seconds' | 'daily_cost';

export const hasBudgets = (budgets: Budgets): boolean =>
  budgets.maxPredictSecondsPerDay !== undefined || budgets.maxCostPerDayUsd !== undefined;

/** The budget today's usage has reached, if any, and when the next day's starts. */
export function budgetReached(
  budgets: Budgets,
  today: DayUsage | undefined,
  now: Date,
): { limit: BudgetLimit; retryAfterSeconds: number } | undefined {
  if (!today) return undefined;
  const retryAfterSeconds = secondsUntilNextDay(now);
  if (budgets.maxPredictSecondsPerDay !== undefined && today.predictMillis >= budgets.maxPredictSecondsPerDay * 1000) {
    return { limit: 'daily_predict_seconds', retryAfterSeconds };
  }
  if (budgets.maxCostPerDayUsd !== undefined && today.costNanoUsd >= Math.round(budgets.maxCostPerDayUsd * 1e9)) {
    return { limit: 'daily_cost', retryAfterSeconds };
  }
  return undefined;
}

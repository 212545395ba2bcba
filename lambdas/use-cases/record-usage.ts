import { budgetReached, hasBudgets } from '../core/budgets';
import { LimitExceeded } from '../core/errors';
import { isTerminal, type Job } from '../core/job';
import { attemptOf, endedJobUsage, usageDayOf } from '../core/usage';
import type { Dependencies } from './dependencies';

/**
 * Adds an ended job to the owner's usage ledger: called by jobEnded only, so once per job. A failure is logged,
 * never thrown: the job has ended whatever the ledger says, and what follows (its callback, its slot) must still happen.
 */
export async function recordEndedUsage(
  deps: Pick<Dependencies, 'usage' | 'settings' | 'log'>,
  job: Job,
): Promise<void> {
  if (!isTerminal(job.status)) return;
  try {
    await deps.usage.recordEnded(job.owner, endedJobUsage({ ...job, status: job.status }, deps.settings.usage.prices));
  } catch (error) {
    deps.log.error('could not record the job in the usage ledger', { jobId: job.id, owner: job.owner, error });
  }
}

/** Counts an accepted job on its day. Logged, never thrown: the job is accepted whatever the ledger says. */
export async function recordSubmittedUsage(deps: Pick<Dependencies, 'usage' | 'log'>, job: Job): Promise<void> {
  try {
    await deps.usage.recordSubmitted(job.owner, attemptOf(job), usageDayOf(job.createdAt));
  } catch (error) {
    deps.log.error('could not count the accepted job in the usage ledger', { jobId: job.id, owner: job.owner, error });
  }
}

/**
 * Refuses a submit once the owner's day has reached one of its budgets (`429 owner_limit_exceeded`, `details.limit`
 * `daily_predict_seconds` or `daily_cost`, `Retry-After` the next UTC midnight). An owner with no budget is not
 * read at all: its submits cost what they did before budgets existed.
 */
export async function checkBudgets(deps: Pick<Dependencies, 'usage' | 'settings'>, owner: string, now: Date) {
  const budgets = deps.settings.usage.budgetsOf(owner);
  if (!hasBudgets(budgets)) return;
  const today = usageDayOf(now);
  const reached = budgetReached(budgets, (await deps.usage.read(owner, [today])).get(today), now);
  if (!reached) return;
  const what = { daily_predict_seconds: 'predict seconds', daily_cost: 'estimated cost' }[reached.limit];
  throw new LimitExceeded(
    'owner_limit_exceeded',
    `This API key has used its ${what} for today`,
    { limit: reached.limit },
    reached.retryAfterSeconds,
  );
}

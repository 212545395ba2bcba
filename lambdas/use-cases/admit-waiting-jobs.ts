import { isPaused, RoundRobinQueue, type WaitingJob } from '../core/admission';
import {
  ADMISSION_STATE_CACHE_MS,
  ADMIT_CLOCK_SKEW_MS,
  ADMIT_CONCURRENCY,
  ADMIT_KICK_RETRY_SECONDS,
  ADMIT_REFRESH_MS,
  ADMIT_RUN_BUDGET_MS,
} from '../core/limits';
import type { Dependencies } from './dependencies';
import { endJob } from './end-job';
import { isThrottled, settleFailedCreate, startPrediction } from './start-prediction';
import { waitAfterThrottle } from './wait-for-capacity';

export interface AdmitReport {
  /** False when another admitter held the lease: this one did nothing. */
  ran: boolean;
  admitted: number;
  throttled: number;
  /** Waiting jobs past their timeout, failed `timeout` here rather than created late. */
  timedOut: number;
  /** Jobs still waiting when the run ended (a fresh admitter was woken for them). */
  remaining: number;
}

export interface AdmitOptions {
  /** Who holds the lease (the invocation's request id). */
  holder: string;
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The admitter: creates the predictions of jobs waiting for capacity, at the pace the account's create rate
 * allows (the same windows submit takes from), owners in turn and each owner's jobs oldest first. One runs
 * at a time (a lease); it reads the whole waiting line once, then new arrivals every ADMIT_REFRESH_MS, and
 * after its budget hands over to a fresh invocation (a kick) if jobs still wait. A 429 puts the job back in
 * its place and pauses every instance for Replicate's Retry-After.
 *
 * When the line is empty it clears the backlog, then looks once more after every instance's cached state has
 * expired: a submit that queued on a stale "backlog" is then seen, and one that queues later starts a new
 * backlog itself (and wakes a new admitter).
 */
export async function admitWaitingJobs(deps: Dependencies, options: AdmitOptions): Promise<AdmitReport> {
  const sleep = options.sleep ?? realSleep;
  const budgetMs = options.budgetMs ?? ADMIT_RUN_BUDGET_MS;
  const report: AdmitReport = { ran: false, admitted: 0, throttled: 0, timedOut: 0, remaining: 0 };
  const started = Date.now();
  const leaseUntil = new Date(deps.clock().getTime() + budgetMs + 30_000);
  if (!(await deps.admission.lease(options.holder, deps.clock(), leaseUntil))) {
    // Another admitter runs, and may be about to stop (its line looked empty): this kick may be for a job it
    // will not see. Passed on, later, it wakes an admitter once the lease is free.
    await deps.admissionKicks.send({ reason: 'continue' }, ADMIT_KICK_RETRY_SECONDS);
    return report;
  }
  report.ran = true;

  const line = new RoundRobinQueue();
  let newest: string | undefined;
  const read = async () => {
    const after = newest && new Date(Date.parse(newest) - ADMIT_CLOCK_SKEW_MS).toISOString();
    const jobs = await deps.jobs.listWaiting(after);
    line.add(jobs);
    for (const job of jobs) if (!newest || job.waitingSince > newest) newest = job.waitingSince;
  };
  const inFlight = new Set<Promise<void>>();
  const admit = (waiting: WaitingJob) => {
    const run = admitOne(deps, waiting, line, report).catch((error) =>
      deps.log.error('admitting a job failed', { jobId: waiting.id, error }),
    );
    const tracked = run.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  try {
    await read();
    let lastRead = Date.now();
    let lastSentAt = 0;
    while (Date.now() - started < budgetMs) {
      if (Date.now() - lastRead >= ADMIT_REFRESH_MS) {
        await read();
        lastRead = Date.now();
      }
      if (line.size === 0) {
        await Promise.all(inFlight); // a throttled create puts its job back
        if (line.size > 0) continue;
        await deps.admission.clearBacklog();
        await sleep(ADMISSION_STATE_CACHE_MS + 500);
        await read();
        if (line.size === 0) break;
        await deps.admission.startBacklog(deps.clock());
        continue;
      }
      const now = deps.clock();
      const state = await deps.admission.state(now);
      if (isPaused(state, now)) {
        await sleep(Math.min(Date.parse(state.pausedUntil!) - now.getTime(), ADMIT_REFRESH_MS));
        continue;
      }
      if (inFlight.size >= ADMIT_CONCURRENCY) {
        await Promise.race(inFlight);
        continue;
      }
      const token = await deps.admission.tryTake(now);
      if (!token.granted) {
        await sleep(Math.min(token.retryInMs, ADMIT_REFRESH_MS));
        continue;
      }
      // At its slot, and never sooner after the last create than the pace allows: a token that came back late
      // (a slow table) must not bunch up with the next one.
      const sendAt = Math.max(token.slotAt, lastSentAt + deps.admission.spacingMs);
      const untilSend = sendAt - deps.clock().getTime();
      if (untilSend > 0) await sleep(untilSend);
      lastSentAt = deps.clock().getTime();
      admit(line.next()!);
    }
    await Promise.all(inFlight);
  } finally {
    report.remaining = line.size;
    // The lease is given back before the hand-over, so the fresh admitter can take it.
    await deps.admission.releaseLease(options.holder);
  }
  if (report.remaining > 0) await deps.admissionKicks.send({ reason: 'continue' });
  deps.log.info('admitter run', { ...report });
  return report;
}

/** Takes one job out of the line and creates its prediction (or fails it, or puts it back when throttled). */
async function admitOne(deps: Dependencies, waiting: WaitingJob, line: RoundRobinQueue, report: AdmitReport) {
  const now = deps.clock();
  const job = await deps.jobs.claimWaiting(waiting.id, now.toISOString());
  if (!job) return; // canceled or timed out meanwhile
  const timeoutSeconds = job.timeoutSeconds ?? deps.settings.jobTimeoutSeconds;
  if (now.getTime() - Date.parse(job.createdAt) > timeoutSeconds * 1000) {
    const ending = { code: 'timeout', message: `The job did not start within its ${timeoutSeconds} s` } as const;
    const outcome = await endJob(deps, job, { status: 'failed', error: ending }, { unsubmittedOnly: true });
    if (outcome.applied) report.timedOut++;
    return;
  }
  try {
    await startPrediction(deps, job);
    report.admitted++;
  } catch (error) {
    if (!isThrottled(error)) {
      await settleFailedCreate(deps, job, error, { notify: true });
      return;
    }
    report.throttled++;
    if (await waitAfterThrottle(deps, job.id, waiting.waitingSince, error.retryAfterSeconds)) line.putBack(waiting);
  }
}

import { refundsDailyCount } from '../core/daily-credits';
import type { Job } from '../core/job';
import { recordJobEnd } from '../core/metrics';
import type { JobEnding, WriteOutcome } from '../core/ports';
import { laterOf } from '../core/time';
import type { Dependencies } from './dependencies';
import { recordEndedUsage } from './record-usage';

/**
 * Everything that follows a job's terminal write, whichever path made it (webhook, poll, cancel, timeout,
 * failed submission). Only the writer whose conditional write succeeded calls this, so it runs once per job.
 * A crash before the slot is given back leaks it; the quota repairs leaks when an owner reaches the limit.
 * A crash before the callback is queued loses the callback (the job record is unaffected); one before the usage is
 * recorded (last: the slot and the callback come first, as they did before the ledger, so a client that sees the
 * job ended finds its slot free) leaves the job out of the ledger.
 *
 * The day's count comes back when `refundDaily` says so (a submission that never reached Replicate), else by the
 * credit rules (core/daily-credits.ts): a failure before any output by default, a client's cancel if set.
 */
export async function jobEnded(
  deps: Pick<Dependencies, 'metrics' | 'quota' | 'log' | 'callbacks' | 'usage' | 'settings'>,
  job: Job,
  options: { refundDaily?: boolean; notify?: boolean } = {},
) {
  recordJobEnd(deps.metrics, job);
  const refundDaily = options.refundDaily ?? refundsDailyCount(job, deps.settings.usage.credits);
  if (job.callbackUrl && options.notify !== false) {
    try {
      await deps.callbacks.send({ jobId: job.id });
    } catch (error) {
      // The job itself is recorded; GET /jobs/{id} stays the source of truth if a callback is lost.
      deps.log.error("could not queue the job's callback", { jobId: job.id, owner: job.owner, error });
    }
  }
  try {
    // The count was taken when the job was submitted: refunded only while the counter is still on that day.
    const countedAt = new Date(job.createdAt);
    await deps.quota.release(job.owner, { shard: job.quotaShard, refundDaily, countedAt });
  } catch (error) {
    deps.log.warn("could not release the owner's in-flight slot; it is repaired when the owner reaches the limit", {
      jobId: job.id,
      owner: job.owner,
      error,
    });
  }
  await recordEndedUsage(deps, job);
}

/**
 * Ends a job that is not terminal yet (cancel, timeout, a failed submission): the conditional terminal write,
 * stamped no earlier than the job's last update, then what follows it. Answers the write's outcome.
 * `notify: false` queues no callback: the client was already told, synchronously (a refused submission).
 */
export async function endJob(
  deps: Pick<Dependencies, 'jobs' | 'clock' | 'metrics' | 'quota' | 'log' | 'callbacks' | 'usage' | 'settings'>,
  job: Job,
  ending: Omit<JobEnding, 'updatedAt'>,
  options: { unsubmittedOnly?: boolean; retryableSubmission?: boolean; refundDaily?: boolean; notify?: boolean } = {},
): Promise<WriteOutcome> {
  const now = deps.clock();
  const { refundDaily, notify, ...finishOptions } = options;
  const outcome = await deps.jobs.finish(
    job.id,
    { ...ending, updatedAt: laterOf(now.toISOString(), job.updatedAt) },
    finishOptions,
  );
  if (outcome.applied) await jobEnded(deps, outcome.job, { refundDaily, notify });
  return outcome;
}

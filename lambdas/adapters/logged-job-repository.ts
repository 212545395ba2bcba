import type { Job } from '../core/job';
import type { Log } from '../core/log';
import type { JobRepository } from '../core/ports';

/** The message of the one log line written per job status change (the local live view reads these too). */
export const JOB_STATUS_CHANGED = 'job status changed';

/**
 * Logs one line each time a write changes a job's status, whatever the path (submit, webhook, poll, cancel,
 * timeout): a searchable history of every job in CloudWatch Logs, without the handlers knowing about it.
 */
export function withLoggedTransitions(jobs: JobRepository, log: Log): JobRepository {
  const changed = (job: Job | undefined) => {
    if (!job) return;
    log.info(JOB_STATUS_CHANGED, {
      jobId: job.id,
      owner: job.owner,
      status: job.status,
      outputs: job.outputs.length,
      ...(job.error ? { errorCode: job.error.code, errorMessage: job.error.message.slice(0, 200) } : {}),
      createdAt: job.createdAt,
      ...(job.completedAt ? { completedAt: job.completedAt } : {}),
    });
  };
  return new Proxy(jobs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        if (property === 'create' && result?.created) changed(args[0] as Job);
        if ((property === 'advance' || property === 'finish') && result?.applied) changed(result.job);
        return result;
      };
    },
  });
}

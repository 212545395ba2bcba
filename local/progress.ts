import type { Job } from '../lambdas/core/job';
import type { JobRepository } from '../lambdas/core/ports';

/**
 * `npm start`'s live view: one line each time a job's status changes, with its path so far, e.g.
 *   job_8c… alice  queued → starting → processing → succeeded  2 outputs, 1.4 s
 * It wraps the jobs repository and watches what each write answers, so it sees every path (webhook, poll,
 * cancel, timeout) without the handlers knowing about it.
 */
export function withProgress(jobs: JobRepository, write: (line: string) => void): JobRepository {
  const paths = new Map<string, string[]>();
  const seen = (job: Job | undefined) => {
    if (!job) return;
    const path = paths.get(job.id) ?? [];
    if (path[path.length - 1] === job.status) return;
    path.push(job.status);
    paths.set(job.id, path);
    const details: string[] = [];
    if (job.status === 'succeeded') details.push(`${job.outputs.length} output${job.outputs.length === 1 ? '' : 's'}`);
    if (job.error) details.push(`${job.error.code}: ${job.error.message.slice(0, 80)}`);
    if (job.completedAt) details.push(`${((Date.parse(job.completedAt) - Date.parse(job.createdAt)) / 1000).toFixed(1)} s`);
    write(`${job.id} ${job.owner}  ${path.join(' → ')}${details.length ? `  ${details.join(', ')}` : ''}`);
    if (['succeeded', 'failed', 'canceled'].includes(job.status)) paths.delete(job.id);
  };
  return new Proxy(jobs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        if (property === 'create' && result?.created) seen(args[0] as Job);
        if (property === 'recordPrediction') seen(result as Job | undefined);
        if ((property === 'advance' || property === 'finish') && result?.applied) seen(result.job);
        return result;
      };
    },
  });
}

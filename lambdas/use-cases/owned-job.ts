import { NotFound } from '../core/errors';
import { JOB_ID } from '../core/ids';
import type { Job } from '../core/job';
import type { Dependencies } from './dependencies';

/**
 * The job named `jobId`, if `owner` owns it. Another owner's job is indistinguishable from no job (NotFound,
 * never "forbidden"), and a malformed id never reaches the table.
 */
export async function ownedJob(deps: Pick<Dependencies, 'jobs'>, owner: string, jobId: string): Promise<Job> {
  const job = JOB_ID.test(jobId) ? await deps.jobs.get(jobId) : undefined;
  // A deleted job's tombstone is no job to its owner either.
  if (!job || job.owner !== owner || job.deletedAt) throw new NotFound('No such job');
  return job;
}

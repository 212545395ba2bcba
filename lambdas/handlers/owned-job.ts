import { ApiError } from '../core/errors';
import { JOB_ID } from '../core/ids';
import type { Job } from '../core/job';
import { ownerOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';

/**
 * The job named by the path, if the caller owns it. Another owner's job is indistinguishable from no job
 * (404, never 403), and a malformed id never reaches the table.
 */
export async function ownedJob(deps: Pick<Dependencies, 'jobs'>, event: ApiEvent): Promise<Job> {
  const owner = ownerOf(event);
  const id = event.pathParameters?.id ?? '';
  const job = JOB_ID.test(id) ? await deps.jobs.get(id) : undefined;
  if (!job || job.owner !== owner) throw new ApiError('not_found', 'No such job');
  return job;
}

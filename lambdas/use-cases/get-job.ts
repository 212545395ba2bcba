import type { JobView } from '../core/job-view';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';

/** The owner's job, with presigned URLs of its stored outputs. */
export async function getJob(deps: Dependencies, owner: string, jobId: string): Promise<JobView> {
  return presentJob(deps, await ownedJob(deps, owner, jobId));
}

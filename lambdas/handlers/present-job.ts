import type { Job } from '../core/job';
import { toJobView, type JobView } from '../core/job-view';
import type { Dependencies } from './dependencies';

/** The job as the API shows it: every stored output gets a short-lived presigned URL. */
export async function presentJob(deps: Pick<Dependencies, 'objects' | 'settings'>, job: Job): Promise<JobView> {
  const urls = await Promise.all(job.outputs.map((output) => deps.objects.presignGet(output.key, deps.settings.presignedUrlSeconds)));
  return toJobView(job, urls);
}

import type { Job } from '../core/job';
import { type JobView, toJobView } from '../core/job-view';
import { servedInline } from '../core/media-types';
import type { Dependencies } from './dependencies';

/**
 * The job as the API shows it: every stored output gets a short-lived presigned URL, which shows it in place
 * only when its type is inline-safe media (core/media-types.ts) and makes the browser save it otherwise.
 */
export async function presentJob(deps: Pick<Dependencies, 'objects' | 'settings'>, job: Job): Promise<JobView> {
  const [urls, output] = await Promise.all([
    Promise.all(
      job.outputs.map((stored) =>
        deps.objects.presignGet(stored.key, deps.settings.presignedUrlSeconds, {
          inline: servedInline(stored.contentType),
        }),
      ),
    ),
    job.outputKey ? deps.objects.getText(job.outputKey).then((text) => JSON.parse(text) as unknown) : job.output,
  ]);
  return toJobView({ ...job, output }, urls);
}

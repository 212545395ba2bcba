import type { Job } from '../core/job';
import { type JobView, toJobView } from '../core/job-view';
import { servedInline } from '../core/media-types';
import type { Dependencies } from './dependencies';

/**
 * The job as the API shows it: every stored output (and stored derivative) gets a short-lived presigned URL, which
 * shows it in place only when its type is inline-safe media (core/media-types.ts) and makes the browser save it
 * otherwise.
 */
export async function presentJob(deps: Pick<Dependencies, 'objects' | 'settings'>, job: Job): Promise<JobView> {
  const urlOf = (stored: { key: string; contentType: string }) =>
    deps.objects.presignGet(stored.key, deps.settings.presignedUrlSeconds, {
      inline: servedInline(stored.contentType),
    });
  const [urls, variantUrls, output] = await Promise.all([
    Promise.all(job.outputs.map(urlOf)),
    Promise.all(
      job.outputs.map((stored) =>
        Promise.all((stored.variants ?? []).map((variant) => ('key' in variant ? urlOf(variant) : ''))),
      ),
    ),
    job.outputKey ? deps.objects.getText(job.outputKey).then((text) => JSON.parse(text) as unknown) : job.output,
  ]);
  return toJobView({ ...job, output }, urls, { variantUrls, outputRetentionDays: deps.settings.outputRetentionDays });
}

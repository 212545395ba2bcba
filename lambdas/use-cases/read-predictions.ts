/** Replicate's prediction routes (`/v1`) that read: a job as its prediction (use-cases/write-predictions.ts writes). */
import type { Job } from '../core/job';
import { type Prediction, toPrediction } from '../core/replicate-prediction';
import type { Dependencies } from './dependencies';
import { listOwnJobs } from './list-jobs';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';

export async function getPrediction(deps: Dependencies, owner: string, id: string, apiBaseUrl: string) {
  return predictionOf(deps, await ownedJob(deps, owner, id), apiBaseUrl);
}

/** A page of Replicate's list: `results`, newest first, and `next`, the URL of the next page (null at the end). */
export async function listPredictions(
  deps: Dependencies,
  owner: string,
  query: { limit: number; cursor?: string },
  apiBaseUrl: string,
): Promise<{ previous: null; next: string | null; results: Prediction[] }> {
  const page = await listOwnJobs(deps, owner, query);
  const next = page.nextCursor
    ? `${apiBaseUrl}/v1/predictions?${new URLSearchParams({ cursor: page.nextCursor, limit: String(query.limit) })}`
    : null;
  return {
    // Pages go forward only: a cursor is where the last page ended.
    previous: null,
    next,
    results: await Promise.all(page.jobs.map((job) => predictionOf(deps, job, apiBaseUrl))),
  };
}

/** The job as its prediction, with presigned URLs of its stored outputs. */
export async function predictionOf(deps: Dependencies, job: Job, apiBaseUrl: string): Promise<Prediction> {
  return toPrediction(job, await presentJob(deps, job), apiBaseUrl, { now: deps.clock() });
}

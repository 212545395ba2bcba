/**
 * Replicate's prediction routes (`/v1`) that write, over the jobs' use cases: each prediction is a job, with every
 * guarantee of the pipeline; only the shapes differ (core/replicate-prediction.ts).
 */
import { isTerminal } from '../core/job';
import { type Prediction, toPrediction } from '../core/replicate-prediction';
import { cancel } from './cancel-job';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';
import { predictionOf } from './read-predictions';
import { type SubmitJobCommand, submitJob } from './submit-job';
import { waitForEnd } from './wait-for-end';

/** Submits the job; with `Prefer: wait`, holds the answer until it ends or `waitSeconds` pass. */
export async function createPrediction(
  deps: Dependencies,
  command: SubmitJobCommand & { waitSeconds?: number },
): Promise<Prediction> {
  const submitted = await submitJob(deps, command);
  const afterWait = command.waitSeconds !== undefined;
  const ended =
    afterWait && !isTerminal(submitted.status) ? await waitForEnd(deps, submitted.id, command.waitSeconds!) : undefined;
  const view = ended ? await presentJob(deps, ended) : submitted;
  return toPrediction(command.spec, view, command.apiBaseUrl, { afterWait });
}

/**
 * Cancels the prediction's job (its Replicate prediction first). One that already ended is answered as it is,
 * as Replicate does, where `POST /jobs/{id}/cancel` refuses it (`job_already_finished`).
 */
export async function cancelPrediction(deps: Dependencies, owner: string, id: string, apiBaseUrl: string) {
  const job = await ownedJob(deps, owner, id);
  return predictionOf(deps, isTerminal(job.status) ? job : await cancel(deps, job), apiBaseUrl);
}

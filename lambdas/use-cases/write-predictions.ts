/**
 * Replicate's prediction routes (`/v1`) that write, over the jobs' use cases: each prediction is a job, with every
 * guarantee of the pipeline; only the shapes differ (core/replicate-prediction.ts).
 */
import { isTerminal } from '../core/job';
import { type Prediction, toPrediction } from '../core/replicate-prediction';
import { cancel } from './cancel-job';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { predictionOf } from './read-predictions';
import { type SubmitJobCommand, submitJobAnswer } from './submit-job';
import { holdUntilEnd } from './wait-for-end';

/**
 * Submits the job; with `Prefer: wait` (`waitSeconds`), holds the answer until it ends or `waitSeconds` after the request
 * arrived (`arrivedAt`, ms).
 */
export async function createPrediction(
  deps: Dependencies,
  command: SubmitJobCommand & { waitSeconds?: number; arrivedAt: number },
): Promise<Prediction> {
  const answer = await submitJobAnswer(deps, command);
  const { waitSeconds } = command;
  const view =
    waitSeconds === undefined ? answer.job : await holdUntilEnd(deps, answer, waitSeconds, command.arrivedAt);
  return toPrediction(command.spec, view, command.apiBaseUrl, {
    now: deps.clock(),
    afterWait: waitSeconds !== undefined,
  });
}

/**
 * Cancels the prediction's job (its Replicate prediction first). One that already ended is answered as it is,
 * as Replicate does, where `POST /jobs/{id}/cancel` refuses it (`job_already_finished`).
 */
export async function cancelPrediction(deps: Dependencies, owner: string, id: string, apiBaseUrl: string) {
  const job = await ownedJob(deps, owner, id);
  return predictionOf(deps, isTerminal(job.status) ? job : await cancel(deps, job), apiBaseUrl);
}

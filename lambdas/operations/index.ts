/**
 * lambdas/operations/: one module per API operation, each owning its whole contract (route, request schema, success,
 * error codes, summary) and binding it to its use case. May import core/, use-cases/ and http/openapi only.
 */
import { callbackSecretOperation } from './callback-secret';
import { cancelJobOperation } from './cancel-job';
import { createUploadOperation } from './create-upload';
import { deleteJobOperation } from './delete-job';
import { getJobOperation } from './get-job';
import { getUsageOperation } from './get-usage';
import { healthOperation } from './health';
import { listJobsOperation } from './list-jobs';
import { openApiOperation } from './openapi-document';
import type { Operation } from './operation';
import { getPredictionOperation, listPredictionsOperation, webhookSecretOperation } from './read-predictions';
import { receiveWebhookOperation } from './receive-webhook';
import { retryJobOperation } from './retry-job';
import { submitJobOperation } from './submit-job';
import { watchJobOperation } from './watch-job';
import {
  cancelPredictionOperation,
  createDeploymentPredictionOperation,
  createModelPredictionOperation,
  createPredictionOperation,
} from './write-predictions';

export { API_FUNCTIONS, type ApiFunctionName, type Operation } from './operation';

/** Every operation of the API, in the order the OpenAPI document lists them. */
export const OPERATIONS: readonly Operation[] = [
  submitJobOperation,
  listJobsOperation,
  getJobOperation,
  watchJobOperation,
  cancelJobOperation,
  retryJobOperation,
  deleteJobOperation,
  createUploadOperation,
  getUsageOperation,
  callbackSecretOperation,
  receiveWebhookOperation,
  healthOperation,
  openApiOperation,
  createPredictionOperation,
  createModelPredictionOperation,
  createDeploymentPredictionOperation,
  listPredictionsOperation,
  getPredictionOperation,
  cancelPredictionOperation,
  webhookSecretOperation,
];

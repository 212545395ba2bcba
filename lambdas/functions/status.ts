/**
 * lambdas/functions/: the Lambda entry points the construct points at (one file per function, export `handler`).
 * Each names the ports its function talks to and imports only their adapters, so its bundle holds (and its cold
 * start loads) only the SDK clients it calls; nothing else lives here.
 */
import { presignGet } from '../adapters/s3-presigner';
import { apiFunction } from '../http/api-function';
import { callbackSecretOperation } from '../operations/callback-secret';
import { getJobOperation } from '../operations/get-job';
import { getUsageOperation } from '../operations/get-usage';
import { healthOperation } from '../operations/health';
import { listJobsOperation } from '../operations/list-jobs';
import { openApiOperation } from '../operations/openapi-document';
import {
  getPredictionOperation,
  listPredictionsOperation,
  webhookSecretOperation,
} from '../operations/read-predictions';
import { awsHandler, wholeApi } from '../runtime/aws';
import { jobRepository, tableClientOf, usageLedger } from '../runtime/ports/dynamo';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';

/** The reads: a job, a page of jobs (as predictions too), the callback secret, health and this API's document. */
export const operations = [
  listJobsOperation,
  getJobOperation,
  getUsageOperation,
  callbackSecretOperation,
  healthOperation,
  openApiOperation,
  listPredictionsOperation,
  getPredictionOperation,
  webhookSecretOperation,
];

export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      usage: usageLedger(table, container.settings), // GET /usage: the owner's day items
      objects: objectStoreOf(container, { presignGet }), // output URLs; a large output's JSON
      secrets: secrets(container), // the callback signing key
    };
  },
  (deps) => apiFunction(operations, deps, wholeApi),
);

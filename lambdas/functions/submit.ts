import { presignGet } from '../adapters/s3-presigner';
import { apiFunction } from '../http/api-function';
import { cancelJobOperation } from '../operations/cancel-job';
import { createUploadOperation } from '../operations/create-upload';
import { deleteJobOperation } from '../operations/delete-job';
import { retryJobOperation } from '../operations/retry-job';
import { submitJobOperation } from '../operations/submit-job';
import {
  cancelPredictionOperation,
  createDeploymentPredictionOperation,
  createModelPredictionOperation,
  createPredictionOperation,
} from '../operations/write-predictions';
import { awsHandler, wholeApi } from '../runtime/aws';
import {
  admission,
  jobRepository,
  ownerQuota,
  tableClientOf,
  uploadRepository,
  usageLedger,
} from '../runtime/ports/dynamo';
import { replicate } from '../runtime/ports/replicate';
import { objectStoreOf, PRESIGNING_UPLOADS } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';

/** The writes a client makes: submit, retry, cancel, delete, uploads for inputs, and predictions (`/v1`). */
export const operations = [
  submitJobOperation,
  retryJobOperation,
  cancelJobOperation,
  deleteJobOperation,
  createUploadOperation,
  createPredictionOperation,
  createModelPredictionOperation,
  createDeploymentPredictionOperation,
  cancelPredictionOperation,
];

export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { callbacks, admissionKicks } = queuesOf(container);
    const secretStore = secrets(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      quota: ownerQuota(table, container.settings),
      usage: usageLedger(table, container.settings), // accepted jobs, budgets, a canceled or refused job's usage
      admission: admission(table, container.settings),
      admissionKicks, // wakes the admitter when a job must wait
      callbacks, // a canceled job's callback
      uploads: uploadRepository(table, container.settings), // who owns an upload, which jobs use it
      // The job view of an idempotent replay; upload URLs (PUT) and the inputs' (GET); a deleted job's objects.
      objects: objectStoreOf(container, { presignGet }, PRESIGNING_UPLOADS),
      secrets: secretStore,
      replicate: replicate(container.settings, secretStore),
    };
  },
  (deps) => apiFunction(operations, deps, wholeApi),
);

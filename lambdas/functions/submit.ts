import { presignGet } from '../adapters/s3-presigner';
import { apiFunction } from '../http/api-function';
import { cancelJobOperation } from '../operations/cancel-job';
import { submitJobOperation } from '../operations/submit-job';
import { awsHandler, wholeApi } from '../runtime/aws';
import { admission, jobRepository, ownerQuota, tableClientOf } from '../runtime/ports/dynamo';
import { replicate } from '../runtime/ports/replicate';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';

/** The writes a client makes: submit and cancel. */
export const operations = [submitJobOperation, cancelJobOperation];

export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { callbacks, admissionKicks } = queuesOf(container);
    const secretStore = secrets(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      quota: ownerQuota(table, container.settings),
      admission: admission(table, container.settings),
      admissionKicks, // wakes the admitter when a job must wait
      callbacks, // a canceled job's callback
      objects: objectStoreOf(container, { presignGet }), // the job view of an idempotent replay
      secrets: secretStore,
      replicate: replicate(container.settings, secretStore),
    };
  },
  (deps) => apiFunction(operations, deps, wholeApi),
);

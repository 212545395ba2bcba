import { awsHandler } from '../runtime/aws';
import { jobRepository, ownerQuota, tableClientOf, usageLedger } from '../runtime/ports/dynamo';
import { replicate } from '../runtime/ports/replicate';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';
import { reconcile } from '../use-cases/reconcile';

/** The scheduled reconciler: polls quiet jobs, times out stuck ones, wakes the admitter. */
export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { queue, callbacks, admissionKicks } = queuesOf(container);
    const secretStore = secrets(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      quota: ownerQuota(table, container.settings), // a timed-out job's slot
      usage: usageLedger(table, container.settings), // a timed-out job's usage
      replicate: replicate(container.settings, secretStore),
      secrets: secretStore,
      objects: objectStoreOf(container), // a polled prediction too large for a message
      queue,
      callbacks,
      admissionKicks,
    };
  },
  (deps) => () => reconcile(deps),
);

import { awsHandler } from '../runtime/aws';
import { jobRepository, ownerQuota } from '../runtime/ports/dynamo';
import { replicate } from '../runtime/ports/replicate';
import { objectStore } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queues } from '../runtime/ports/sqs';
import { reconcile } from '../use-cases/reconcile';

/** The scheduled reconciler: polls quiet jobs, times out stuck ones, wakes the admitter. */
export const handler = awsHandler(
  (container) => {
    const { queue, callbacks, admissionKicks } = queues(container);
    const secretStore = secrets(container);
    return {
      jobs: jobRepository(container),
      quota: ownerQuota(container), // a timed-out job's slot
      replicate: replicate(container, secretStore),
      secrets: secretStore,
      objects: objectStore(container), // a polled prediction too large for a message
      queue,
      callbacks,
      admissionKicks,
    };
  },
  (deps) => () => reconcile(deps),
);

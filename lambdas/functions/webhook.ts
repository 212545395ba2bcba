import { apiFunction } from '../http/api-function';
import { receiveWebhookOperation } from '../operations/receive-webhook';
import { awsHandler, wholeApi } from '../runtime/aws';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';

/** Replicate's webhook: verify and queue, nothing else (no table: replays are ignored by the consumer). */
export const operations = [receiveWebhookOperation];

export const handler = awsHandler(
  (container) => ({
    secrets: secrets(container), // the signing secret
    queue: queuesOf(container).queue,
    objects: objectStoreOf(container), // a body too large for a message
  }),
  (deps) => apiFunction(operations, deps, wholeApi),
);

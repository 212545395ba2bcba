import type { SQSEvent } from 'aws-lambda';
import { presignGet } from '../adapters/s3-presigner';
import { awsHandler } from '../runtime/aws';
import { callbackOwners, jobRepository, tableClientOf } from '../runtime/ports/dynamo';
import { callbackEndpoint } from '../runtime/ports/http';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';
import { deliverCallbacks } from '../sqs/deliver-callbacks';

/** The client-callback sender. */
export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { callbacks, callbackDeadLetters } = queuesOf(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      callbackOwners: callbackOwners(table, container.settings),
      callbackEndpoint: callbackEndpoint(container.settings),
      callbacks,
      callbackDeadLetters,
      secrets: secrets(container), // the signing key
      objects: objectStoreOf(container, { presignGet }), // the payload's output URLs
    };
  },
  (deps) => (event: SQSEvent) => deliverCallbacks(deps)(event),
);

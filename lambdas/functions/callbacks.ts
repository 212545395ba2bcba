import type { SQSEvent } from 'aws-lambda';
import { presignGet } from '../adapters/s3-presigner';
import { awsHandler } from '../runtime/aws';
import { callbackOwners, jobRepository } from '../runtime/ports/dynamo';
import { callbackEndpoint } from '../runtime/ports/http';
import { objectStore } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queues } from '../runtime/ports/sqs';
import { deliverCallbacks } from '../sqs/deliver-callbacks';

/** The client-callback sender. */
export const handler = awsHandler(
  (container) => {
    const { callbacks, callbackDeadLetters } = queues(container);
    return {
      jobs: jobRepository(container),
      callbackOwners: callbackOwners(container),
      callbackEndpoint: callbackEndpoint(container),
      callbacks,
      callbackDeadLetters,
      secrets: secrets(container), // the signing key
      objects: objectStore(container, { presignGet }), // the payload's output URLs
    };
  },
  (deps) => (event: SQSEvent) => deliverCallbacks(deps)(event),
);

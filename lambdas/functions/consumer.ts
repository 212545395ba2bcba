import type { SQSEvent } from 'aws-lambda';
import { multipartUpload } from '../adapters/s3-multipart-upload';
import { awsHandler } from '../runtime/aws';
import { jobRepository, ownerQuota } from '../runtime/ports/dynamo';
import { outputSource } from '../runtime/ports/http';
import { objectStore } from '../runtime/ports/s3';
import { queues } from '../runtime/ports/sqs';
import { consumePredictions } from '../sqs/consume-predictions';

/** The queue consumer: applies prediction events, copies outputs, ends jobs. */
export const handler = awsHandler(
  (container) => {
    const { queue, callbacks } = queues(container);
    return {
      jobs: jobRepository(container),
      quota: ownerQuota(container), // an ended job's slot
      objects: objectStore(container, { multipartUpload }), // outputs streamed in; large bodies and results
      outputs: outputSource(container),
      queue, // a duplicate put back while another consumer copies
      callbacks,
    };
  },
  (deps) => (event: SQSEvent) => consumePredictions(deps)(event),
);

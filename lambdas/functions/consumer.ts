import type { SQSEvent } from 'aws-lambda';
import { multipartUpload } from '../adapters/s3-multipart-upload';
import { awsHandler } from '../runtime/aws';
import { jobRepository, ownerQuota, tableClientOf, usageLedger } from '../runtime/ports/dynamo';
import { outputSource } from '../runtime/ports/http';
import { images } from '../runtime/ports/images';
import { objectStoreOf } from '../runtime/ports/s3';
import { queuesOf } from '../runtime/ports/sqs';
import { consumePredictions } from '../sqs/consume-predictions';

/** The queue consumer: applies prediction events, copies outputs, ends jobs. */
export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { queue, callbacks } = queuesOf(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      quota: ownerQuota(table, container.settings), // an ended job's slot
      usage: usageLedger(table, container.settings), // an ended job's usage
      objects: objectStoreOf(container, { multipartUpload }), // outputs streamed in; large bodies and results
      outputs: outputSource(container.settings),
      images: images(), // derivatives of image outputs
      queue, // a duplicate put back while another consumer copies
      callbacks,
    };
  },
  (deps) => (event: SQSEvent) => consumePredictions(deps)(event),
);

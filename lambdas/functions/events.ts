/**
 * The event stream of a job (`GET /jobs/{id}/events`): a streaming function (API Gateway's response transfer mode
 * STREAM), so it answers through Lambda's response stream rather than a return value, for up to five minutes.
 */
import type { Writable } from 'node:stream';
import { presignGet } from '../adapters/s3-presigner';
import { type PreludeWriter, type StreamPrelude, streamingApiFunction } from '../http/stream-function';
import { watchJobOperation } from '../operations/watch-job';
import { awsHandler, wholeApi } from '../runtime/aws';
import { jobRepository, tableClientOf } from '../runtime/ports/dynamo';
import { objectStoreOf } from '../runtime/ports/s3';

/** What the Lambda Node.js runtime puts on `globalThis` for streaming handlers (aws-lambda-ric). */
declare const awslambda: {
  streamifyResponse<H>(handler: H): H;
  HttpResponseStream: { from(stream: Writable, prelude: StreamPrelude): Writable };
};

export const operations = [watchJobOperation];

const withPrelude: PreludeWriter = (stream, prelude) => awslambda.HttpResponseStream.from(stream, prelude);

// The runtime calls a streaming handler with (event, responseStream, context): awsHandler passes its second argument on.
export const handler = awslambda.streamifyResponse(
  awsHandler(
    (container) => ({
      jobs: jobRepository(tableClientOf(container), container.settings, container.log),
      objects: objectStoreOf(container, { presignGet }), // output URLs; a large output's JSON
    }),
    (deps) => streamingApiFunction(operations, deps, wholeApi, withPrelude),
  ),
);

import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { NotFound } from '../core/errors';
import type { Operation, WholeApi } from '../operations/operation';
import type { Dependencies } from '../use-cases/dependencies';
import { type ApiEvent, toApiRequest } from './api-event';
import { failureResponse } from './api-function';
import { errorResponse, type HttpResponse, jsonResponse } from './responses';

/** What API Gateway reads before a streamed body: the status and headers (Lambda's `HttpResponseStream` prelude). */
export interface StreamPrelude {
  statusCode: number;
  headers: Record<string, string>;
}

/**
 * `awslambda.HttpResponseStream.from`: wraps the invocation's response stream so its first write is preceded by the
 * prelude and the 8 NUL bytes that end it (the format API Gateway's streaming Lambda proxy integration reads).
 */
export type PreludeWriter = (stream: Writable, prelude: StreamPrelude) => Writable;

type StreamingEvent = ApiEvent & { resource: string; httpMethod: string };

/**
 * The HTTP adapter of a streaming function (STREAMING_FUNCTIONS): the same request parsing and refusals as
 * http/api-function.ts, but the answer is written to Lambda's response stream: a refusal or a plain answer whole,
 * an operation's `stream` chunk by chunk, each written as soon as it is made (and waiting for the reader when it
 * falls behind). A failure mid-stream ends the stream (the client resumes with Last-Event-ID); nothing can change
 * the status once the prelude is sent.
 */
export function streamingApiFunction(
  served: readonly Operation[],
  deps: Dependencies,
  api: WholeApi,
  withPrelude: PreludeWriter,
) {
  return async (event: StreamingEvent, responseStream: Writable): Promise<void> => {
    const operation = served.find((each) => each.path === event.resource && each.method === event.httpMethod);
    if (!operation) return writeWhole(withPrelude, responseStream, errorResponse(new NotFound('No such route')));
    let result: Awaited<ReturnType<Operation['handle']>>;
    try {
      result = await operation.handle(toApiRequest(event, operation.apiKeyRequired), deps, api);
    } catch (error) {
      return writeWhole(withPrelude, responseStream, failureResponse(operation, deps, error));
    }
    const statusCode = result.status ?? operation.success.status;
    if (!result.stream) {
      return writeWhole(withPrelude, responseStream, jsonResponse(statusCode, result.body, result.headers));
    }
    const stream = withPrelude(responseStream, { statusCode, headers: result.headers ?? {} });
    try {
      for await (const chunk of result.stream) await write(stream, chunk);
    } catch (error) {
      deps.log.warn('event stream ended by a failure', { operation: operation.name, error });
    }
    await end(stream);
  };
}

async function writeWhole(withPrelude: PreludeWriter, responseStream: Writable, response: HttpResponse) {
  const stream = withPrelude(responseStream, { statusCode: response.statusCode, headers: response.headers });
  // Even an empty body is written: the prelude goes out with the first write.
  await write(stream, response.body);
  await end(stream);
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

function end(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

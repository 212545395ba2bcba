/**
 * lambdas/http/: the HTTP adapter — API Gateway events in, responses out, error codes to statuses, the OpenAPI
 * document. Imports core/, operations/ and use-cases/ types; no AWS SDK.
 */
import { NotFound, RequestRefused } from '../core/errors';
import type { Operation, WholeApi } from '../operations/operation';
import type { Dependencies } from '../use-cases/dependencies';
import { type ApiEvent, toApiRequest } from './api-event';
import { errorResponse, type HttpResponse, jsonResponse } from './responses';

export type ApiHandler = (event: ApiEvent) => Promise<HttpResponse>;

/**
 * The one HTTP adapter: parses the event, calls the operation, and maps what it throws onto a response, once
 * for every route. A refusal answers its code; anything else is logged and answers a 500 that leaks nothing.
 */
export function httpHandler(operation: Operation, deps: Dependencies, api: WholeApi): ApiHandler {
  return async (event) => {
    try {
      const result = await operation.handle(toApiRequest(event, operation.apiKeyRequired), deps, api);
      return jsonResponse(result.status ?? operation.success.status, result.body, result.headers);
    } catch (error) {
      return failureResponse(operation, deps, error);
    }
  };
}

/** What an operation's failure answers: a refusal its code, anything else (logged) a 500 that leaks nothing. */
export function failureResponse(operation: Operation, deps: Pick<Dependencies, 'log'>, error: unknown): HttpResponse {
  if (!(error instanceof RequestRefused)) {
    deps.log.error('request failed unexpectedly', { operation: operation.name, error });
  } else if (!operation.errors.includes(error.code)) {
    // Still answered, but the OpenAPI document does not list it: the operation's contract is out of date.
    deps.log.warn('operation answered a code its contract does not list', {
      operation: operation.name,
      code: error.code,
    });
  }
  return errorResponse(error, operation.errorShape);
}

/**
 * One Lambda function serving the operations it is given (its entry point imports only those, so its bundle
 * holds only their use cases): API Gateway tells which by `resource` and `httpMethod`.
 */
export function apiFunction(served: readonly Operation[], deps: Dependencies, api: WholeApi) {
  const handlers = new Map(served.map((operation) => [operation, httpHandler(operation, deps, api)]));
  return async (event: ApiEvent & { resource: string; httpMethod: string }): Promise<HttpResponse> => {
    const operation = served.find((each) => each.path === event.resource && each.method === event.httpMethod);
    if (!operation) return errorResponse(new NotFound('No such route'));
    return handlers.get(operation)!(event);
  };
}

/**
 * lambdas/http/: the HTTP adapter — API Gateway events in, responses out, error codes to statuses, the OpenAPI
 * document. Imports core/, operations/ and use-cases/ types; no AWS SDK.
 */
import { NotFound, RequestRefused } from '../core/errors';
import { OPERATIONS } from '../operations';
import type { ApiFunctionName, Operation } from '../operations/operation';
import type { Dependencies } from '../use-cases/dependencies';
import { type ApiEvent, toApiRequest } from './api-event';
import { errorResponse, type HttpResponse, jsonResponse } from './responses';

export type ApiHandler = (event: ApiEvent) => Promise<HttpResponse>;

/**
 * The one HTTP adapter: parses the event, calls the operation, and maps what it throws onto a response, once
 * for every route. A refusal answers its code; anything else is logged and answers a 500 that leaks nothing.
 */
export function httpHandler(operation: Operation, deps: Dependencies): ApiHandler {
  return async (event) => {
    try {
      const result = await operation.handle(toApiRequest(event, operation.apiKeyRequired), deps, OPERATIONS);
      return jsonResponse(operation.success.status, result.body, result.headers);
    } catch (error) {
      if (!(error instanceof RequestRefused)) {
        deps.log.error('request failed unexpectedly', { operation: operation.name, error });
      } else if (!operation.errors.includes(error.code)) {
        // Still answered, but the OpenAPI document does not list it: the operation's contract is out of date.
        deps.log.warn('operation answered a code its contract does not list', {
          operation: operation.name,
          code: error.code,
        });
      }
      return errorResponse(error);
    }
  };
}

/** The handler of one operation by name, over one set of dependencies (tests drive operations this way). */
export function operationHandler(name: string, deps: Dependencies): ApiHandler {
  const operation = OPERATIONS.find((each) => each.name === name);
  if (!operation) throw new Error(`No operation ${name}`);
  return httpHandler(operation, deps);
}

/**
 * One Lambda function serving the operations the list gives it: API Gateway tells which by `resource` and
 * `httpMethod`. Dependencies are built lazily, on the first request, once.
 */
export function apiFunction(name: ApiFunctionName, dependencies: () => Dependencies) {
  const served = OPERATIONS.filter((operation) => operation.function === name);
  const handlers = new Map<Operation, ApiHandler>();
  return async (event: ApiEvent & { resource: string; httpMethod: string }): Promise<HttpResponse> => {
    const operation = served.find((each) => each.path === event.resource && each.method === event.httpMethod);
    if (!operation) return errorResponse(new NotFound('No such route'));
    let handler = handlers.get(operation);
    if (!handler) {
      handler = httpHandler(operation, dependencies());
      handlers.set(operation, handler);
    }
    return handler(event);
  };
}

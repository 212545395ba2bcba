import { ApiError } from '../core/errors';
import { errorResponse, type HttpResponse } from '../core/http';
import { ROUTES, type ApiFunctionName, type HandlerName } from '../routes';
import type { ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { cancelJob } from './cancel-job';
import { getJob } from './get-job';
import { callbackSecret } from './callback-secret';
import { health } from './health';
import { openapi } from './openapi-document';
import { listJobs } from './list-jobs';
import { submitJob } from './submit';
import { receiveWebhook } from './webhook';

export type ApiHandler = (event: ApiEvent) => Promise<HttpResponse>;

const FACTORIES: Record<HandlerName, (deps: Dependencies) => ApiHandler> = {
  submitJob,
  getJob,
  listJobs,
  cancelJob,
  callbackSecret,
  receiveWebhook,
  health,
  openapi,
};

/** The handlers of every route, built once over one set of dependencies. */
export const buildApiHandlers = (deps: Dependencies): Record<HandlerName, ApiHandler> =>
  Object.fromEntries(Object.entries(FACTORIES).map(([name, factory]) => [name, factory(deps)])) as Record<HandlerName, ApiHandler>;

/**
 * One Lambda function serving the routes the table gives it: API Gateway tells which by `resource` and
 * `httpMethod`. Dependencies are built lazily, on the first request, once.
 */
export function apiFunction(name: ApiFunctionName, dependencies: () => Dependencies) {
  let handlers: Record<HandlerName, ApiHandler> | undefined;
  return async (event: ApiEvent & { resource: string; httpMethod: string }): Promise<HttpResponse> => {
    const route = ROUTES.find((r) => r.function === name && r.path === event.resource && r.method === event.httpMethod);
    if (!route) return errorResponse(new ApiError('not_found', 'No such route'));
    handlers ??= buildApiHandlers(dependencies());
    return handlers[route.handler](event);
  };
}

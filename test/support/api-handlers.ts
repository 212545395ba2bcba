import { type ApiHandler, httpHandler } from '../../lambdas/http/api-function';
import { OPERATIONS } from '../../lambdas/operations';
import type { Dependencies } from '../../lambdas/use-cases/dependencies';

/** The handler of one operation by name, over one set of dependencies (tests drive operations this way). */
export function operationHandler(name: string, deps: Dependencies): ApiHandler {
  const operation = OPERATIONS.find((each) => each.name === name);
  if (!operation) throw new Error(`No operation ${name}`);
  return httpHandler(operation, deps, { operations: () => OPERATIONS });
}

/** Operations driven through the one HTTP adapter, as API Gateway's events reach them, over given dependencies. */
export const submitJob = (deps: Dependencies) => operationHandler('submitJob', deps);
export const receiveWebhook = (deps: Dependencies) => operationHandler('receiveWebhook', deps);

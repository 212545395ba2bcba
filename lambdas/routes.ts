/** The route table of the API, read off lambdas/operations/: what lib/ builds API Gateway from. */
import { OPERATIONS } from './operations';
import type { ApiFunctionName } from './operations/operation';

export { API_FUNCTIONS, type ApiFunctionName, STREAMING_FUNCTIONS } from './operations/operation';

/** A route as API Gateway sees it: what the CDK construct builds a method from. */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  /** The Lambda function that serves it. */
  function: ApiFunctionName;
  /** The operation's name (its operationId). */
  handler: string;
  apiKeyRequired: boolean;
}

/**
 * The route table, read off the operations: the CDK construct builds API Gateway's resources and methods from
 * it, and the local gateway reads the routes back from the synthesized template.
 */
export const ROUTES: readonly Route[] = OPERATIONS.map((operation) => ({
  method: operation.method,
  path: operation.path,
  function: operation.function,
  handler: operation.name,
  apiKeyRequired: operation.apiKeyRequired,
}));

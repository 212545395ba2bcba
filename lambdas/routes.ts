/**
 * The one route table: the CDK construct builds API Gateway's resources and methods from it, and each API
 * function dispatches on it (the local gateway reads the routes back from the synthesized template). Pure
 * data, no imports.
 */
export const API_FUNCTIONS = ['submit', 'status', 'webhook'] as const;
export type ApiFunctionName = (typeof API_FUNCTIONS)[number];

export const HANDLER_NAMES = ['submitJob', 'getJob', 'listJobs', 'cancelJob', 'callbackSecret', 'receiveWebhook', 'health', 'openapi'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

export interface Route {
  method: 'GET' | 'POST';
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  /** The Lambda function that serves it (several routes may share one). */
  function: ApiFunctionName;
  handler: HandlerName;
  /** Whether `x-api-key` is required (the webhook authenticates by signature, health by nothing). */
  apiKeyRequired: boolean;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/jobs', function: 'submit', handler: 'submitJob', apiKeyRequired: true },
  { method: 'GET', path: '/jobs', function: 'status', handler: 'listJobs', apiKeyRequired: true },
  { method: 'GET', path: '/jobs/{id}', function: 'status', handler: 'getJob', apiKeyRequired: true },
  { method: 'POST', path: '/jobs/{id}/cancel', function: 'submit', handler: 'cancelJob', apiKeyRequired: true },
  { method: 'GET', path: '/callbacks/secret', function: 'status', handler: 'callbackSecret', apiKeyRequired: true },
  { method: 'POST', path: '/webhooks/replicate', function: 'webhook', handler: 'receiveWebhook', apiKeyRequired: false },
  { method: 'GET', path: '/health', function: 'status', handler: 'health', apiKeyRequired: false },
  { method: 'GET', path: '/openapi.json', function: 'status', handler: 'openapi', apiKeyRequired: false },
];

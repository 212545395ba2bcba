import type { ErrorCode } from '../core/errors';
import type * as z from '../core/schema';
import type { Dependencies } from '../use-cases/dependencies';

/** The Lambda functions that serve the API: routes are grouped by what they load and how they scale. */
export const API_FUNCTIONS = ['submit', 'status', 'webhook', 'events'] as const;
export type ApiFunctionName = (typeof API_FUNCTIONS)[number];
/**
 * The functions whose responses API Gateway streams (response transfer mode STREAM, InvokeWithResponseStream): their
 * handlers write to a response stream and may run for minutes (`GET /jobs/{id}/events`).
 */
export const STREAMING_FUNCTIONS: readonly ApiFunctionName[] = ['events'];

/** A request as an operation sees it: parsed from the API Gateway event by the HTTP adapter. */
export interface ApiRequest {
  /** The API key's id (the owner of what it creates); empty on routes without an API key. */
  owner: string;
  /** The raw body, decoded from base64 when API Gateway encoded it. */
  body: string;
  /** Every header as received (for signature checks); `header()` for one, by any case. */
  headers: Record<string, string | undefined>;
  header(name: string): string | undefined;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** The API's base URL as the client reached it (stage prefix and custom-domain base path included). */
  baseUrl: string;
}

/** What an operation answers on success; the status is the operation's `success.status`. */
export interface ApiResult {
  body: unknown;
  headers?: Record<string, string>;
  /** Another success status than the operation's (one of its `alsoSucceeds`): `POST /jobs` with `Prefer: wait`. */
  status?: number;
  /** A streamed body instead of `body` (only a function in STREAMING_FUNCTIONS can send one): its chunks, in order. */
  stream?: AsyncIterable<string>;
}

/**
 * Every operation of the API, loaded when first asked for: a function's entry point imports only the operations it
 * serves, and the whole list (every use case) only when the OpenAPI document is first built.
 */
export interface WholeApi {
  operations(): readonly Operation[];
}

/** How an operation's errors are written: ours, or Replicate's (the `/v1` routes, for Replicate's clients). */
export type ErrorShape = 'api' | 'replicate';

/** Where Replicate's API is served: every route under it writes its errors Replicate's way. */
export const REPLICATE_API_PREFIX = '/v1/';

/** The error shape of a path, for answers no operation gives (no such route, no key, too large a body). */
export const errorShapeOf = (path: string): ErrorShape => (path.startsWith(REPLICATE_API_PREFIX) ? 'replicate' : 'api');

/** Names of the response schemas the OpenAPI document describes (http/openapi.ts). */
export type ResponseSchema =
  | 'job'
  | 'jobList'
  | 'health'
  | 'accepted'
  | 'openapi'
  | 'secret'
  | 'upload'
  | 'eventStream'
  | 'usage'
  | 'prediction'
  | 'predictionList'
  | 'webhookSecret'
  | 'none';

/**
 * One API operation's whole contract, in one module: route, method, request schema, what it answers, the error
 * codes it can answer, its summary, and the use case it calls. API Gateway (lib/), the Lambda dispatcher
 * (http/api-function.ts), the local gateway (through the synthesized template) and `openapi.json` are all
 * built by walking the list in operations/index.ts.
 */
export interface Operation {
  /** The operationId. */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  /** The Lambda function that serves it (several operations share one). */
  function: ApiFunctionName;
  /** Whether `x-api-key` is required (the webhook authenticates by signature, health by nothing). */
  apiKeyRequired: boolean;
  summary: string;
  request?: {
    body?: z.ZodMiniType;
    query?: z.ZodMiniType;
    headers?: Array<{ name: string; schema: Record<string, unknown> }>;
  };
  success: { status: number; description: string; schema: ResponseSchema };
  /** Other success answers it may give instead, with the same schema. */
  alsoSucceeds?: Array<{ status: number; description: string }>;
  /** Every code it can answer (the HTTP adapter logs a refusal whose code is not listed). */
  errors: readonly ErrorCode[];
  /** How its errors are written: ours (the default) or Replicate's (`/v1`). */
  errorShape?: ErrorShape;
  /** `api.operations()` is the whole list (the OpenAPI operation describes it). */
  handle(request: ApiRequest, deps: Dependencies, api: WholeApi): Promise<ApiResult>;
}

/** The header that makes a request that creates a job safe to repeat (`POST /jobs`, `POST /jobs/{id}/retry`). */
export const IDEMPOTENCY_KEY_HEADER = { name: 'Idempotency-Key', schema: { type: 'string', maxLength: 255 } };

/** Codes any operation that calls Replicate can answer. */
export const REPLICATE_ERRORS = ['replicate_rate_limited', 'replicate_unavailable', 'replicate_auth_failed'] as const;

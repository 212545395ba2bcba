import type { ErrorCode } from '../core/errors';

/**
 * The HTTP status of each error code: the one place the API's statuses are decided, so handlers, the local
 * gateway, the OpenAPI document and the README table cannot drift apart.
 */
export const API_ERRORS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_idempotency_key: 400,
  invalid_query: 400,
  invalid_prediction: 400,
  unauthorized: 401,
  invalid_signature: 401,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_key_reused: 409,
  job_already_finished: 409,
  job_not_retryable: 409,
  submission_pending: 409,
  body_too_large: 413,
  validation_failed: 422,
  unknown_upload: 422,
  replicate_rejected_input: 422,
  owner_limit_exceeded: 429,
  replicate_rate_limited: 429,
  internal_error: 500,
  replicate_unavailable: 502,
  replicate_auth_failed: 502,
  queue_unavailable: 503,
  webhook_not_configured: 503,
};

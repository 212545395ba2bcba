/**
 * The one list of API error codes: each code's HTTP status lives here, so handlers, the local server
 * and the README table cannot drift apart. Codes are stable: clients switch on them, never on messages.
 */
export const API_ERRORS = {
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
  submission_pending: 409,
  body_too_large: 413,
  validation_failed: 422,
  replicate_rejected_input: 422,
  owner_limit_exceeded: 429,
  replicate_rate_limited: 429,
  internal_error: 500,
  replicate_unavailable: 502,
  replicate_auth_failed: 502,
  queue_unavailable: 503,
  webhook_not_configured: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Codes a job's `error.code` can carry once it has failed or been canceled. */
export const JOB_ERROR_CODES = [
  'prediction_failed',
  'prediction_canceled',
  'submit_failed',
  'output_host_not_allowed',
  'output_too_large',
  'output_download_failed',
  'too_many_outputs',
  'outputs_total_too_large',
  'timeout',
] as const;

export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** An error the API answers with: a status, a stable code, a message for humans and optional details. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }
}

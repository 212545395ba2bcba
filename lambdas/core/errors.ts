/**
 * Every error the service raises on purpose, under one base class, and the stable codes it tells callers.
 * Codes are the contract (clients switch on them, never on messages); which HTTP status each code answers
 * with is the HTTP adapter's business (lambdas/http/error-status.ts), not the core's.
 */

/** Codes of errors the API answers with. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_idempotency_key',
  'invalid_query',
  'invalid_prediction',
  'unauthorized',
  'invalid_signature',
  'not_found',
  'method_not_allowed',
  'idempotency_key_reused',
  'job_already_finished',
  'job_not_retryable',
  'submission_pending',
  'body_too_large',
  'validation_failed',
  'unknown_upload',
  'replicate_rejected_input',
  'owner_limit_exceeded',
  'replicate_rate_limited',
  'internal_error',
  'replicate_unavailable',
  'replicate_auth_failed',
  'queue_unavailable',
  'webhook_not_configured',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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

/** The base of every error the service throws on purpose; anything else is a bug or an outage. */
export abstract class JobsError extends Error {}

/** A request the service refuses: the caller is told its code, message, details and when to retry. */
export class RequestRefused extends JobsError {
  override readonly name: string = 'RequestRefused';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Sent as `Retry-After`: when asking again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

type InvalidRequestCode =
  | 'invalid_json'
  | 'invalid_idempotency_key'
  | 'invalid_query'
  | 'invalid_prediction'
  | 'body_too_large'
  | 'validation_failed'
  | 'unknown_upload'
  | 'replicate_rejected_input';

/** The request itself is wrong: asking again unchanged fails the same way. */
export class InvalidRequest extends RequestRefused {
  override readonly name = 'InvalidRequest';
  constructor(code: InvalidRequestCode, message: string, details?: unknown) {
    super(code, message, details);
  }
}

/** No API key, or a webhook whose signature does not verify. */
export class Unauthenticated extends RequestRefused {
  override readonly name = 'Unauthenticated';
  constructor(code: 'unauthorized' | 'invalid_signature', message: string) {
    super(code, message);
  }
}

/** No such thing for this caller: another owner's job is indistinguishable from none. */
export class NotFound extends RequestRefused {
  override readonly name = 'NotFound';
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The request contradicts the state of the job it names. */
export class Conflict extends RequestRefused {
  override readonly name = 'Conflict';
  constructor(
    code: 'idempotency_key_reused' | 'job_already_finished' | 'job_not_retryable' | 'submission_pending',
    message: string,
    details?: unknown,
    retryAfterSeconds?: number,
  ) {
    super(code, message, details, retryAfterSeconds);
  }
}

/** A limit (the owner's, or Replicate's on our account) says not now. */
export class LimitExceeded extends RequestRefused {
  override readonly name = 'LimitExceeded';
  constructor(
    code: 'owner_limit_exceeded' | 'replicate_rate_limited',
    message: string,
    details: unknown,
    retryAfterSeconds: number,
  ) {
    super(code, message, details, retryAfterSeconds);
  }
}

/** Something the service depends on cannot serve the request now; asking again later may succeed. */
export class Unavailable extends RequestRefused {
  override readonly name = 'Unavailable';
  constructor(
    code: 'replicate_unavailable' | 'replicate_auth_failed' | 'queue_unavailable' | 'webhook_not_configured',
    message: string,
    details?: unknown,
  ) {
    super(code, message, details);
  }
}

/** How a call to Replicate failed, in terms the use cases map onto the API contract. */
export type ReplicateFailureKind = 'rejected' | 'rate_limited' | 'unavailable' | 'auth_failed' | 'not_found';

export class ReplicateFailure extends JobsError {
  override readonly name = 'ReplicateFailure';
  constructor(
    readonly kind: ReplicateFailureKind,
    message: string,
    readonly status?: number,
    readonly detail?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * An output that could not be copied. `permanent` failures (a host off the allowlist, a file over the size
 * limit) fail the job; the others are retried, because Replicate keeps files for about an hour.
 */
export class OutputFailure extends JobsError {
  override readonly name = 'OutputFailure';
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Another consumer holds the transfer lease: this message should come back once the lease has expired. */
export class TransferInProgress extends JobsError {
  override readonly name = 'TransferInProgress';
  constructor(readonly retryAfterSeconds: number) {
    super("Another consumer is copying this job's outputs");
  }
}

/** A message that can never succeed (unknown job, malformed body): left to the queue's redrive to the DLQ. */
export class PoisonMessage extends JobsError {
  override readonly name = 'PoisonMessage';
}

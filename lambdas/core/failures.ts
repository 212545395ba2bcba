import type { JobErrorCode } from './errors';

/** How a call to Replicate failed, in terms the submit handler maps onto the API contract. */
export type ReplicateFailureKind = 'rejected' | 'rate_limited' | 'unavailable' | 'auth_failed' | 'not_found';

export class ReplicateFailure extends Error {
  constructor(
    readonly kind: ReplicateFailureKind,
    message: string,
    readonly status?: number,
    readonly detail?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ReplicateFailure';
  }
}

/**
 * An output that could not be copied. `permanent` failures (a host off the allowlist, a file over the size
 * limit) fail the job; the others are retried, because Replicate keeps files for about an hour.
 */
export class OutputFailure extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'OutputFailure';
  }
}

/** Another consumer holds the transfer lease: this message should come back once the lease has expired. */
export class TransferInProgress extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Another consumer is copying this job\'s outputs');
    this.name = 'TransferInProgress';
  }
}

/** A message that can never succeed (unknown job, malformed body): left to the queue's redrive to the DLQ. */
export class PoisonMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessage';
  }
}

import { LimitExceeded, type ReplicateFailure, Unavailable } from '../core/errors';

/**
 * What the caller is told when a call to Replicate failed: rate limited (with Replicate's `Retry-After`), or
 * unavailable. (Submit maps a refused input itself, before calling this: only creating a prediction can be
 * refused so.)
 */
export function replicateRefusal(failure: ReplicateFailure, details?: unknown): LimitExceeded | Unavailable {
  if (failure.kind === 'rate_limited') {
    return new LimitExceeded('replicate_rate_limited', failure.message, details, failure.retryAfterSeconds ?? 1);
  }
  if (failure.kind === 'auth_failed') {
    return new Unavailable('replicate_auth_failed', 'The service could not authenticate to Replicate', details);
  }
  return new Unavailable('replicate_unavailable', failure.message, details);
}

import { ApiError } from '../core/errors';
import type { ReplicateFailure } from '../core/failures';

/**
 * What the API answers when a call to Replicate failed: 429 with Replicate's `Retry-After`, or 502. (Submit
 * maps a refused input to 422 itself, before calling this: only creating a prediction can be refused so.)
 */
export function replicateApiError(failure: ReplicateFailure, details?: unknown): ApiError {
  if (failure.kind === 'rate_limited') {
    return new ApiError('replicate_rate_limited', failure.message, details, { 'retry-after': String(failure.retryAfterSeconds ?? 1) });
  }
  if (failure.kind === 'auth_failed') return new ApiError('replicate_auth_failed', 'The service could not authenticate to Replicate', details);
  return new ApiError('replicate_unavailable', failure.message, details);
}

/**
 * Retries an operation with exponential backoff and full jitter while `isRetryable` says so. Used for output
 * downloads: Replicate keeps files for about an hour, so a transient error (a reset connection, a 5xx) is
 * worth a few quick retries before the message goes back to the queue.
 */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs?: number;
}

/** The delay ceiling before retry `attempt` (1-based): `base` doubling per attempt, at most `max`. */
export const backoff = (base: number, attempt: number, max: number): number => Math.min(max, base * 2 ** (attempt - 1));

export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const ceiling = backoff(policy.baseDelayMs, attempt, policy.maxDelayMs ?? 30_000);
      await sleep(Math.round(random() * ceiling));
    }
  }
}

/**
 * API Gateway's throttling algorithm: a bucket of `burst` tokens, refilled at `rate` a second; each request
 * takes one, and a request finding none is refused. Returns whether this request may pass.
 */
export function tokenBucket(rate: number, burst: number, now: () => number = Date.now): () => boolean {
  let tokens = burst;
  let at = now();
  return () => {
    const time = now();
    // Only when time has passed: an infinite rate times no time would make the count NaN.
    if (time > at) tokens = Math.min(burst, tokens + ((time - at) / 1000) * rate);
    at = time;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

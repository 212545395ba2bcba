/**
 * `Prefer: wait` (RFC 7240, as Replicate reads it): the client would rather wait for the job to end than poll for
 * it. The longest wait is a setting (`maxPreferWaitSeconds`): 25 s by default, under API Gateway's default 29 s
 * integration timeout with room for the submit itself; 60 s, Replicate's own longest, locally or where the account's
 * integration timeout was raised. A larger N is clamped, and a preference that is not one we know is ignored, as the
 * RFC says.
 */
/** Replicate's longest blocking wait, and ours. */
export const LONGEST_PREFER_WAIT_SECONDS = 60;

export interface PreferWaitOptions {
  /** The longest wait honoured. */
  max: number;
  /** A bare `wait` (no N) waits `max` seconds, as Replicate's API does (`/v1`); otherwise it asks for nothing. */
  bareWaitsLongest?: boolean;
}

/** The seconds to wait, or undefined when the header asks for no wait we honour. */
export function preferredWaitSeconds(prefer: string | undefined, options: PreferWaitOptions): number | undefined {
  if (!prefer) return undefined;
  for (const preference of prefer.split(',')) {
    const token = preference.split(';')[0];
    if (options.bareWaitsLongest && /^\s*wait\s*$/i.test(token)) return options.max;
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(token);
    if (match) {
      const seconds = Number(match[1]);
      return seconds > 0 ? Math.min(seconds, options.max) : undefined;
    }
  }
  return undefined;
}

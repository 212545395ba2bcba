/**
 * `Prefer: wait=N` (RFC 7240, as Replicate reads it): the client would rather wait up to N seconds for the job to
 * end than poll for it. At most MAX_PREFER_WAIT_SECONDS, under API Gateway's 29 s integration timeout with room
 * for the submit itself; a larger N is clamped, and a preference that is not one we know is ignored, as the RFC says.
 */
export const MAX_PREFER_WAIT_SECONDS = 25;

/** The seconds to wait, or undefined when the header asks for no wait we honour. */
export function preferredWaitSeconds(prefer: string | undefined): number | undefined {
  if (!prefer) return undefined;
  for (const preference of prefer.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(preference.split(';')[0]);
    if (match) {
      const seconds = Number(match[1]);
      return seconds > 0 ? Math.min(seconds, MAX_PREFER_WAIT_SECONDS) : undefined;
    }
  }
  return undefined;
}

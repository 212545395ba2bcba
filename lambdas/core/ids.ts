import { createHash, randomBytes } from 'node:crypto';

/** Job ids: `job_` + 26 base32 characters (128 bits). Anything else is not a job id, so it is a 404. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const JOB_ID = /^job_[0-9a-hjkmnp-tv-z]{26}$/;

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export const newJobId = (): string => `job_${base32(randomBytes(16))}`;

/** Upload ids (core/uploads.ts): `upl_` + 26 base32 characters, 128 random bits, unguessable like job ids. */
export const UPLOAD_ID = /^upl_[0-9a-hjkmnp-tv-z]{26}$/;
export const newUploadId = (): string => `upl_${base32(randomBytes(16))}`;

/**
 * The job id for an Idempotency-Key: derived from owner and key, so the one conditional put that creates
 * a job also detects the retry. No second record, no transaction.
 */
export const idempotentJobId = (owner: string, key: string): string =>
  `job_${base32(createHash('sha256').update(`${owner}\u0000${key}`).digest().subarray(0, 16))}`;

/** A stable hash of a JSON value: object keys sorted, so key order in the client's body does not matter. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Idempotency keys: printable ASCII, 1–255 characters (what Stripe and the IETF draft accept). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

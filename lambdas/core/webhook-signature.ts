import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks verification, as Replicate signs: HMAC-SHA256 over `${id}.${timestamp}.${body}` with the
 * base64 key after `whsec_`, sent as space-separated `v1,<base64>` entries in `webhook-signature`.
 *
 * Our own rather than the `standardwebhooks` package because we need what it lacks: several secrets at
 * once (rotation), an injected clock, a strict timestamp (it accepts "123abc"), and node:crypto's HMAC
 * (native, several times faster than its pure-JS one). The tests check it against the spec's published
 * test vector and against the package itself on random inputs.
 */
export const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';

export type SignatureFailure =
  | 'missing_headers'
  | 'malformed_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

export type Verification = { ok: true; id: string; timestamp: number } | { ok: false; reason: SignatureFailure };

/** Standard Webhooks' floor for a signing key: shorter keys are guessable, and Replicate's are longer. */
export const MIN_SIGNING_KEY_BYTES = 24;
export const SIGNING_SECRET_RULE = `each comma-separated entry must be ${SECRET_PREFIX} followed by standard base64 of at least ${MIN_SIGNING_KEY_BYTES} bytes`;

/** Why a setting (or one of its entries) cannot be used; `not_set` is the stack's placeholder or nothing at all. */
export type SigningSecretProblem = 'not_set' | 'empty_entry' | 'missing_prefix' | 'invalid_base64' | 'key_too_short';

/**
 * A webhook secret setting the verifier refuses to use, whole: one bad entry (a hand-edited `whsec_new,UNSET`
 * made `UNSET` a 3-byte key anyone could sign with) fails every webhook closed rather than verify with the
 * good entries and hide the mistake. The message names the entry's position and the rule, never its value.
 */
export class InvalidSigningSecret extends Error {
  readonly code = 'invalid_webhook_secret';
  constructor(
    readonly problem: SigningSecretProblem,
    readonly entry?: { index: number; of: number },
  ) {
    super(
      problem === 'not_set'
        ? 'The webhook signing secret has not been set (see README: "Setting the secrets")'
        : `Webhook signing secret refused, entry ${entry?.index} of ${entry?.of} (${problem}): ${SIGNING_SECRET_RULE}`,
    );
    this.name = 'InvalidSigningSecret';
  }
}

/** The key an entry stands for, or why it stands for none. */
function decodeEntry(entry: string): Buffer | Exclude<SigningSecretProblem, 'not_set'> {
  if (entry === '') return 'empty_entry';
  if (!entry.startsWith(SECRET_PREFIX)) return 'missing_prefix';
  const text = entry.slice(SECRET_PREFIX.length);
  // Node's decoder skips characters it cannot read instead of failing: only the standard alphabet, padding
  // that completes a quantum, and an encoding that round-trips (no ignored trailing bits) are base64 here.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || (text.includes('=') && text.length % 4 !== 0)) return 'invalid_base64';
  const key = Buffer.from(text, 'base64');
  if (key.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) return 'invalid_base64';
  return key.length < MIN_SIGNING_KEY_BYTES ? 'key_too_short' : key;
}

/** Why one `whsec_…` entry would be refused, or undefined when it is a usable secret. */
export function signingSecretProblem(entry: string): SigningSecretProblem | undefined {
  const decoded = decodeEntry(entry.trim());
  return Buffer.isBuffer(decoded) ? undefined : decoded;
}

/**
 * Parses the secret setting: one or more `whsec_…` values separated by commas (two during a rotation), each
 * held to {@link SIGNING_SECRET_RULE}. Throws {@link InvalidSigningSecret} on the first entry that is not.
 */
export function parseSigningSecrets(setting: string): Buffer[] {
  const entries = setting.split(',').map((part) => part.trim());
  return entries.map((entry, i) => {
    const decoded = decodeEntry(entry);
    if (!Buffer.isBuffer(decoded)) throw new InvalidSigningSecret(decoded, { index: i + 1, of: entries.length });
    return decoded;
  });
}

export function signWebhook(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Header lookup that ignores case, as HTTP does (API Gateway passes headers as the client sent them). */
export function headerOf(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function verifyWebhook(options: {
  headers: Record<string, string | undefined> | null | undefined;
  rawBody: string;
  keys: Buffer[];
  now: Date;
}): Verification {
  const id = headerOf(options.headers, 'webhook-id');
  const timestampHeader = headerOf(options.headers, 'webhook-timestamp');
  const signatureHeader = headerOf(options.headers, 'webhook-signature');
  if (!id || !timestampHeader || !signatureHeader) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'malformed_timestamp' };
  const timestamp = Number(timestampHeader);
  const nowSeconds = Math.floor(options.now.getTime() / 1000);
  if (nowSeconds - timestamp > TOLERANCE_SECONDS) return { ok: false, reason: 'timestamp_too_old' };
  if (timestamp - nowSeconds > TOLERANCE_SECONDS) return { ok: false, reason: 'timestamp_too_new' };

  const signed = `${id}.${timestampHeader}.${options.rawBody}`;
  const offered = signatureHeader
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const key of options.keys) {
    const expected = createHmac('sha256', key).update(signed).digest();
    // Every offered signature is compared (no early exit on a match) in constant time per comparison.
    let matched = false;
    for (const signature of offered) {
      if (signature.length === expected.length && timingSafeEqual(signature, expected)) matched = true;
    }
    if (matched) return { ok: true, id, timestamp };
  }
  return { ok: false, reason: 'no_matching_signature' };
}

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  InvalidSigningSecret,
  parseSigningSecrets,
  signingSecretProblem,
  signWebhook,
  verifyWebhook,
} from '../../lambdas/core/webhook-signature';

// The test vector published with the Standard Webhooks specification.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const specNow = new Date(SPEC.timestamp * 1000);
const specHeaders = (overrides: Record<string, string | undefined> = {}) => ({
  'webhook-id': SPEC.id,
  'webhook-timestamp': String(SPEC.timestamp),
  'webhook-signature': SPEC.signature,
  ...overrides,
});
const keys = parseSigningSecrets(SPEC.secret);

describe('webhook signature (Standard Webhooks)', () => {
  it('signs the specification test vector exactly', () => {
    expect(signWebhook(keys[0], SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it('accepts the specification test vector', () => {
    expect(verifyWebhook({ headers: specHeaders(), rawBody: SPEC.body, keys, now: specNow })).toEqual({
      ok: true,
      id: SPEC.id,
      timestamp: SPEC.timestamp,
    });
  });

  it('accepts a timestamp up to exactly 5 minutes old or ahead (both edges of the window pinned)', () => {
    for (const offset of [-300, -1, 1, 300]) {
      expect(
        verifyWebhook({
          headers: specHeaders(),
          rawBody: SPEC.body,
          keys,
          now: new Date((SPEC.timestamp + offset) * 1000),
        }).ok,
      ).toBe(true);
    }
  });

  it('reads headers whatever their case', () => {
    const headers = {
      'Webhook-Id': SPEC.id,
      'WEBHOOK-TIMESTAMP': String(SPEC.timestamp),
      'Webhook-Signature': SPEC.signature,
    };
    expect(verifyWebhook({ headers, rawBody: SPEC.body, keys, now: specNow }).ok).toBe(true);
  });

  const otherKey = parseSigningSecrets(`whsec_${randomBytes(24).toString('base64')}`);
  const forged: Array<
    [string, { headers?: Record<string, string | undefined>; body?: string; now?: Date; keys?: Buffer[] }, string]
  > = [
    ['wrong secret', { keys: otherKey }, 'no_matching_signature'],
    ['tampered body', { body: '{"test": 2432232315}' }, 'no_matching_signature'],
    ['body re-serialised (whitespace changed)', { body: '{"test":2432232314}' }, 'no_matching_signature'],
    ['timestamp older than 5 minutes', { now: new Date((SPEC.timestamp + 301) * 1000) }, 'timestamp_too_old'],
    ['timestamp more than 5 minutes ahead', { now: new Date((SPEC.timestamp - 301) * 1000) }, 'timestamp_too_new'],
    [
      'timestamp changed (signature no longer matches)',
      { headers: specHeaders({ 'webhook-timestamp': String(SPEC.timestamp + 1) }) },
      'no_matching_signature',
    ],
    ['id changed', { headers: specHeaders({ 'webhook-id': 'msg_other' }) }, 'no_matching_signature'],
    ['missing webhook-id', { headers: specHeaders({ 'webhook-id': undefined }) }, 'missing_headers'],
    ['missing webhook-timestamp', { headers: specHeaders({ 'webhook-timestamp': undefined }) }, 'missing_headers'],
    ['missing webhook-signature', { headers: specHeaders({ 'webhook-signature': undefined }) }, 'missing_headers'],
    ['no headers at all', { headers: {} }, 'missing_headers'],
    [
      'timestamp with trailing junk',
      { headers: specHeaders({ 'webhook-timestamp': `${SPEC.timestamp}abc` }) },
      'malformed_timestamp',
    ],
    ['negative timestamp', { headers: specHeaders({ 'webhook-timestamp': '-1' }) }, 'malformed_timestamp'],
    [
      'timestamp in milliseconds',
      { headers: specHeaders({ 'webhook-timestamp': String(SPEC.timestamp * 1000) }) },
      'malformed_timestamp',
    ],
    [
      'other signature scheme only (v1a)',
      { headers: specHeaders({ 'webhook-signature': SPEC.signature.replace('v1,', 'v1a,') }) },
      'no_matching_signature',
    ],
    [
      'signature without version',
      { headers: specHeaders({ 'webhook-signature': SPEC.signature.slice(3) }) },
      'no_matching_signature',
    ],
    [
      'truncated signature',
      { headers: specHeaders({ 'webhook-signature': SPEC.signature.slice(0, 20) }) },
      'no_matching_signature',
    ],
    [
      'signature as hex instead of base64',
      {
        headers: specHeaders({
          'webhook-signature': 'v1,' + Buffer.from(SPEC.signature.slice(3), 'base64').toString('hex'),
        }),
      },
      'no_matching_signature',
    ],
    ['empty signature entry', { headers: specHeaders({ 'webhook-signature': 'v1,' }) }, 'no_matching_signature'],
  ];
  it.each(forged)('rejects %s', (_name, forgery, reason) => {
    const result = verifyWebhook({
      headers: forgery.headers ?? specHeaders(),
      rawBody: forgery.body ?? SPEC.body,
      keys: forgery.keys ?? keys,
      now: forgery.now ?? specNow,
    });
    expect(result).toEqual({ ok: false, reason });
  });

  it('accepts a header carrying several signatures when one matches', () => {
    const headers = specHeaders({
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${SPEC.signature} v2,abc`,
    });
    expect(verifyWebhook({ headers, rawBody: SPEC.body, keys, now: specNow }).ok).toBe(true);
  });

  it('accepts either secret during a rotation (comma-separated setting)', () => {
    const newSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const rotating = parseSigningSecrets(`${newSecret}, ${SPEC.secret}`);
    expect(verifyWebhook({ headers: specHeaders(), rawBody: SPEC.body, keys: rotating, now: specNow }).ok).toBe(true);
    const signedWithNew = signWebhook(rotating[0], SPEC.id, SPEC.timestamp, SPEC.body);
    const headers = specHeaders({ 'webhook-signature': signedWithNew });
    expect(verifyWebhook({ headers, rawBody: SPEC.body, keys: rotating, now: specNow }).ok).toBe(true);
    expect(verifyWebhook({ headers, rawBody: SPEC.body, keys, now: specNow }).ok).toBe(false);
  });

  describe('the secret setting: every entry whsec_ + standard base64 of at least 24 bytes, or nothing is used', () => {
    const valid = `whsec_${randomBytes(32).toString('base64')}`; // what Replicate issues
    const refusal = (setting: string) => {
      try {
        parseSigningSecrets(setting);
      } catch (error) {
        return error as InvalidSigningSecret;
      }
      throw new Error('accepted');
    };

    it.each([
      ['the placeholder after a valid secret (a 3-byte key once)', `${valid},UNSET`, 'missing_prefix', 2, 2],
      ['a bare base64 key', randomBytes(32).toString('base64'), 'missing_prefix', 1, 1],
      ['another prefix', `whsek_${randomBytes(32).toString('base64')}`, 'missing_prefix', 1, 1],
      ['a 23-byte key', `whsec_${randomBytes(23).toString('base64')}`, 'key_too_short', 1, 1],
      ['a short hand-edited entry', `whsec_new,${valid}`, 'key_too_short', 1, 2],
      ['the prefix alone', 'whsec_', 'key_too_short', 1, 1],
      ['an empty setting', '', 'empty_entry', 1, 1],
      ['only separators', ' , ', 'empty_entry', 1, 2],
      ['a trailing comma', `${valid},`, 'empty_entry', 2, 2],
      ['an empty entry between two', `${valid},,${valid}`, 'empty_entry', 2, 3],
      [
        'characters outside base64',
        `whsec_${randomBytes(32).toString('base64').slice(0, -2)}!!`,
        'invalid_base64',
        1,
        1,
      ],
      ['url-safe base64', `whsec_${'-_'.repeat(22)}`, 'invalid_base64', 1, 1],
      [
        'a space inside the key',
        `whsec_${randomBytes(16).toString('base64')} ${randomBytes(16).toString('base64')}`,
        'invalid_base64',
        1,
        1,
      ],
      [
        'padding in the middle',
        `whsec_${randomBytes(16).toString('base64')}${randomBytes(16).toString('base64')}`,
        'invalid_base64',
        1,
        1,
      ],
      ['padding that completes nothing', `whsec_${randomBytes(33).toString('base64')}=`, 'invalid_base64', 1, 1],
      [
        'a dangling character (bits the decoder drops)',
        `whsec_${randomBytes(33).toString('base64')}A`,
        'invalid_base64',
        1,
        1,
      ],
    ])('refuses %s, naming the entry and the rule, never the value', (_name, setting, problem, index, of) => {
      const error = refusal(setting);
      expect(error).toBeInstanceOf(InvalidSigningSecret);
      expect(error).toMatchObject({ code: 'invalid_webhook_secret', problem, entry: { index, of } });
      expect(error.message).toContain(`entry ${index} of ${of} (${problem})`);
      expect(error.message).toContain('whsec_ followed by standard base64 of at least 24 bytes');
      for (const entry of setting
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e && e !== 'whsec_'))
        expect(error.message).not.toContain(entry);
    });

    it('accepts keys from 24 bytes, padded or not, with spaces around entries', () => {
      const key24 = randomBytes(24);
      expect(parseSigningSecrets(`whsec_${key24.toString('base64')}`)).toEqual([key24]);
      const key32 = randomBytes(32);
      const unpadded = key32.toString('base64').replace(/=+$/, '');
      expect(parseSigningSecrets(` whsec_${unpadded} , ${SPEC.secret} `)).toEqual([key32, keys[0]]);
      expect(signingSecretProblem(valid)).toBeUndefined();
      expect(signingSecretProblem('UNSET')).toBe('missing_prefix');
    });

    it('accepts exactly the keys of 24 bytes or more, whatever their bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (key) => {
          const setting = `whsec_${Buffer.from(key).toString('base64')}`;
          expect(signingSecretProblem(setting)).toBe(key.length >= 24 ? undefined : 'key_too_short');
        }),
        { numRuns: 300 },
      );
    });
  });

  it('agrees with the standardwebhooks package on random ids, timestamps and bodies', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        fc.string({ minLength: 1 }),
        fc.string(),
        (key, id, body) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`;
          const timestamp = Math.floor(Date.now() / 1000);
          const reference = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
          expect(signWebhook(parseSigningSecrets(secret)[0], id, timestamp, body)).toBe(reference);
          const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': reference };
          expect(verifyWebhook({ headers, rawBody: body, keys: parseSigningSecrets(secret), now: new Date() }).ok).toBe(
            true,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import fc from 'fast-check';
import { parseSigningSecrets, signWebhook, verifyWebhook } from '../../lambdas/core/webhook-signature';

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
      expect(verifyWebhook({ headers: specHeaders(), rawBody: SPEC.body, keys, now: new Date((SPEC.timestamp + offset) * 1000) }).ok).toBe(true);
    }
  });

  it('reads headers whatever their case', () => {
    const headers = { 'Webhook-Id': SPEC.id, 'WEBHOOK-TIMESTAMP': String(SPEC.timestamp), 'Webhook-Signature': SPEC.signature };
    expect(verifyWebhook({ headers, rawBody: SPEC.body, keys, now: specNow }).ok).toBe(true);
  });

  const otherKey = parseSigningSecrets(`whsec_${randomBytes(24).toString('base64')}`);
  const forged: Array<[string, { headers?: Record<string, string | undefined>; body?: string; now?: Date; keys?: Buffer[] }, string]> = [
    ['wrong secret', { keys: otherKey }, 'no_matching_signature'],
    ['tampered body', { body: '{"test": 2432232315}' }, 'no_matching_signature'],
    ['body re-serialised (whitespace changed)', { body: '{"test":2432232314}' }, 'no_matching_signature'],
    ['timestamp older than 5 minutes', { now: new Date((SPEC.timestamp + 301) * 1000) }, 'timestamp_too_old'],
    ['timestamp more than 5 minutes ahead', { now: new Date((SPEC.timestamp - 301) * 1000) }, 'timestamp_too_new'],
    ['timestamp changed (signature no longer matches)', { headers: specHeaders({ 'webhook-timestamp': String(SPEC.timestamp + 1) }) }, 'no_matching_signature'],
    ['id changed', { headers: specHeaders({ 'webhook-id': 'msg_other' }) }, 'no_matching_signature'],
    ['missing webhook-id', { headers: specHeaders({ 'webhook-id': undefined }) }, 'missing_headers'],
    ['missing webhook-timestamp', { headers: specHeaders({ 'webhook-timestamp': undefined }) }, 'missing_headers'],
    ['missing webhook-signature', { headers: specHeaders({ 'webhook-signature': undefined }) }, 'missing_headers'],
    ['no headers at all', { headers: {} }, 'missing_headers'],
    ['timestamp with trailing junk', { headers: specHeaders({ 'webhook-timestamp': `${SPEC.timestamp}abc` }) }, 'malformed_timestamp'],
    ['negative timestamp', { headers: specHeaders({ 'webhook-timestamp': '-1' }) }, 'malformed_timestamp'],
    ['timestamp in milliseconds', { headers: specHeaders({ 'webhook-timestamp': String(SPEC.timestamp * 1000) }) }, 'malformed_timestamp'],
    ['other signature scheme only (v1a)', { headers: specHeaders({ 'webhook-signature': SPEC.signature.replace('v1,', 'v1a,') }) }, 'no_matching_signature'],
    ['signature without version', { headers: specHeaders({ 'webhook-signature': SPEC.signature.slice(3) }) }, 'no_matching_signature'],
    ['truncated signature', { headers: specHeaders({ 'webhook-signature': SPEC.signature.slice(0, 20) }) }, 'no_matching_signature'],
    ['signature as hex instead of base64', { headers: specHeaders({ 'webhook-signature': 'v1,' + Buffer.from(SPEC.signature.slice(3), 'base64').toString('hex') }) }, 'no_matching_signature'],
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
    const headers = specHeaders({ 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${SPEC.signature} v2,abc` });
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

  it('refuses a setting with no usable secret', () => {
    expect(() => parseSigningSecrets('')).toThrow();
    expect(() => parseSigningSecrets(' , ')).toThrow();
    expect(() => parseSigningSecrets('whsec_')).toThrow();
  });

  it('agrees with the standardwebhooks package on random ids, timestamps and bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.string({ minLength: 1 }), fc.string(), (key, id, body) => {
        const secret = `whsec_${Buffer.from(key).toString('base64')}`;
        const timestamp = Math.floor(Date.now() / 1000);
        const reference = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
        expect(signWebhook(parseSigningSecrets(secret)[0], id, timestamp, body)).toBe(reference);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': reference };
        expect(verifyWebhook({ headers, rawBody: body, keys: parseSigningSecrets(secret), now: new Date() }).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

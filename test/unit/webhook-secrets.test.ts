import { headerOf, parseSigningSecrets, verifyWebhook } from '../../lambdas/core/webhook-signature';

/** Beside webhook-signature.test.ts: requests without headers. */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// The setting's rules (every entry whsec_ + at least 24 bytes; blank entries refused) are in webhook-signature.test.ts.
describe('a webhook request without headers', () => {
  it.each([null, undefined])('(headers %s) is refused as missing its headers, not a crash', (headers) => {
    expect(verifyWebhook({ headers, rawBody: '{}', keys: parseSigningSecrets(SECRET), now: new Date() })).toEqual({
      ok: false,
      reason: 'missing_headers',
    });
    expect(headerOf(headers, 'webhook-id')).toBeUndefined();
  });
});

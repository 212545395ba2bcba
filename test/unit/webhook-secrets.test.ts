import { headerOf, parseSigningSecrets, verifyWebhook } from '../../lambdas/core/webhook-signature';

/** Beside webhook-signature.test.ts: the secret setting, and requests without headers. */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('webhook signing secret setting', () => {
  it('ignores blank entries, as a trailing comma or spaces during a rotation leave them', () => {
    expect(parseSigningSecrets(`${SECRET},`)).toEqual(parseSigningSecrets(SECRET));
    expect(parseSigningSecrets(` , ${SECRET} ,, `)).toHaveLength(1);
  });

  it('refuses the whole setting if any secret in it is empty, saying what it expected', () => {
    expect(() => parseSigningSecrets(`${SECRET},whsec_`)).toThrow('The webhook signing secret setting holds no usable whsec_ secret');
    expect(() => parseSigningSecrets(`whsec_,${SECRET}`)).toThrow(/whsec_/);
  });
});

describe('a webhook request without headers', () => {
  it.each([null, undefined])('(headers %s) is refused as missing its headers, not a crash', (headers) => {
    expect(verifyWebhook({ headers, rawBody: '{}', keys: parseSigningSecrets(SECRET), now: new Date() })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(headerOf(headers, 'webhook-id')).toBeUndefined();
  });
});

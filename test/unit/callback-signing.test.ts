import { Webhook } from 'standardwebhooks';
import { callbackSecretFor } from '../../lambdas/core/callback-signing';
import { parseSigningSecrets, signWebhook } from '../../lambdas/core/webhook-signature';

const master = Buffer.alloc(32, 7);

describe('callback signing secrets', () => {
  it('never changes for an owner: clients keep it, so a new derivation would break every receiver at once', () => {
    expect(callbackSecretFor(master, 'alice')).toBe('whsec_Ukog3066lYoWoBFzBrgs+x69oS++3ta6UN+9AmaTedg=');
  });

  it('differs per owner and per master key (one owner cannot forge callbacks to another)', () => {
    const secrets = new Set([
      callbackSecretFor(master, 'alice'),
      callbackSecretFor(master, 'bob'),
      callbackSecretFor(Buffer.alloc(32, 8), 'alice'),
    ]);
    expect(secrets.size).toBe(3);
  });

  it('is a Standard Webhooks secret: the standardwebhooks package verifies what we sign with it', () => {
    const secret = callbackSecretFor(master, 'alice');
    const key = parseSigningSecrets(secret)[0];
    expect(key).toHaveLength(32);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"id":"job_1","status":"succeeded"}';
    const headers = {
      'webhook-id': 'cb_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(key, 'cb_1', timestamp, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'job_1', status: 'succeeded' });
  });
});

import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UNSET_SECRET } from '../../contract/secrets';
import { SecretsManagerSecrets } from '../../lambdas/adapters/secrets';
import { InvalidSigningSecret } from '../../lambdas/core/webhook-signature';
import { startSecretsManager } from '../../local/secrets-manager';
import { type ReplicateSimulator, startReplicateSimulator } from '../../local/simulator';
import { setSecrets } from '../../scripts/set-secrets';

describe('secrets: the setup script and the runtime reader', () => {
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  let simulator: ReplicateSimulator;
  let stub: Awaited<ReturnType<typeof startSecretsManager>>;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    simulator = await startReplicateSimulator({ webhookSecret });
    stub = await startSecretsManager({ token: UNSET_SECRET, webhook: UNSET_SECRET });
    client = new SecretsManagerClient({
      endpoint: stub.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await stub.stop();
    await simulator.stop();
  });

  it('refuses to run with the placeholder the stack creates', async () => {
    const secrets = new SecretsManagerSecrets(client, { apiToken: 'token', webhookSecret: 'webhook' }, 0);
    await expect(secrets.replicateApiToken()).rejects.toThrow(/has not been set/);
    await expect(secrets.webhookSigningKeys()).rejects.toThrow(/has not been set/);
  });

  it('stores the token and the signing secret fetched from Replicate; rotation keeps the previous one', async () => {
    const base = {
      secretsManager: client,
      token: 'r8_test',
      tokenSecretId: 'token',
      webhookSecretId: 'webhook',
      replicateBaseUrl: simulator.apiBaseUrl,
    };
    await setSecrets(base);
    expect(stub.values.get('token')).toBe('r8_test');
    expect(stub.values.get('webhook')).toBe(webhookSecret);

    const old = `whsec_${randomBytes(24).toString('base64')}`;
    stub.values.set('webhook', old);
    expect(await setSecrets({ ...base, rotate: true })).toEqual({ webhookSecrets: 2 });
    expect(stub.values.get('webhook')).toBe(`${webhookSecret},${old}`);

    const secrets = new SecretsManagerSecrets(client, { apiToken: 'token', webhookSecret: 'webhook' }, 0);
    expect(await secrets.replicateApiToken()).toBe('r8_test');
    expect(await secrets.webhookSigningKeys()).toHaveLength(2);
  });

  it('rotating drops a previous entry the webhook function would refuse, instead of storing a setting it refuses whole', async () => {
    const base = {
      secretsManager: client,
      token: 'r8_test',
      tokenSecretId: 'token',
      webhookSecretId: 'webhook',
      replicateBaseUrl: simulator.apiBaseUrl,
    };
    stub.values.set('webhook', 'whsec_b2xkb2xkb2xkb2xkb2xk'); // 15 bytes: never usable
    expect(await setSecrets({ ...base, rotate: true })).toEqual({ webhookSecrets: 1 });
    expect(stub.values.get('webhook')).toBe(webhookSecret);
  });

  it('refuses a stored setting with a malformed entry, naming the entry and the rule, never the value', async () => {
    stub.values.set('webhook', `${webhookSecret},UNSET`);
    const secrets = new SecretsManagerSecrets(client, { apiToken: 'token', webhookSecret: 'webhook' }, 0);
    const refused = await secrets.webhookSigningKeys().catch((error: unknown) => error as InvalidSigningSecret);
    expect(refused).toBeInstanceOf(InvalidSigningSecret);
    expect(refused).toMatchObject({
      code: 'invalid_webhook_secret',
      problem: 'missing_prefix',
      entry: { index: 2, of: 2 },
    });
    expect((refused as Error).message).not.toContain(webhookSecret.slice(6));
    expect((refused as Error).message).not.toContain('UNSET');
  });

  it('caches values for its max age, so a read per request does not hit Secrets Manager', async () => {
    const secrets = new SecretsManagerSecrets(client, { apiToken: 'token', webhookSecret: 'webhook' }, 60_000);
    stub.values.set('token', 'first');
    expect(await secrets.replicateApiToken()).toBe('first');
    stub.values.set('token', 'second');
    expect(await secrets.replicateApiToken()).toBe('first');
  });
});

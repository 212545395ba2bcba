import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UNSET_SECRET } from '../../contract/secrets';
import type { Secrets } from '../core/ports';
import { InvalidSigningSecret, parseSigningSecrets } from '../core/webhook-signature';

export class SecretNotConfigured extends Error {
  constructor(name: string) {
    super(`The secret ${name} has not been set (see README: "Setting the secrets")`);
    this.name = 'SecretNotConfigured';
  }
}

/** Caches each value for `maxAgeMs`, so a rotated secret is picked up within that time without a redeploy. */
class CachedValue {
  private value?: Promise<string>;
  private fetchedAt = 0;
  constructor(
    private readonly fetch: () => Promise<string>,
    private readonly maxAgeMs: number,
  ) {}
  get(): Promise<string> {
    const now = Date.now();
    if (!this.value || now - this.fetchedAt > this.maxAgeMs) {
      this.fetchedAt = now;
      this.value = this.fetch().catch((error) => {
        this.value = undefined; // a failed read is retried on the next call, never cached
        throw error;
      });
    }
    return this.value;
  }
}

abstract class ParsedSecrets implements Secrets {
  protected abstract readToken(): Promise<string>;
  protected abstract readSigningSecrets(): Promise<string>;
  protected abstract readCallbackKey(): Promise<string>;
  async callbackMasterKey(): Promise<Buffer> {
    const key = (await this.readCallbackKey()).trim();
    if (key.length < 16) throw new SecretNotConfigured('callback signing key');
    return Buffer.from(key, 'utf8');
  }
  async replicateApiToken(): Promise<string> {
    const token = (await this.readToken()).trim();
    if (!token || token === UNSET_SECRET) throw new SecretNotConfigured('Replicate API token');
    return token;
  }
  async webhookSigningKeys(): Promise<Buffer[]> {
    const setting = (await this.readSigningSecrets()).trim();
    // Both are the operator's to fix, and the webhook tells them apart from a failed read by this error.
    if (!setting || setting === UNSET_SECRET) throw new InvalidSigningSecret('not_set');
    return parseSigningSecrets(setting);
  }
}

/** Secrets Manager, read at run time and cached: never in environment variables or the template. */
export class SecretsManagerSecrets extends ParsedSecrets {
  private readonly token: CachedValue;
  private readonly signing: CachedValue;
  private readonly callbackKey: CachedValue;
  constructor(
    client: SecretsManagerClient,
    ids: { apiToken: string; webhookSecret: string; callbackKey?: string },
    maxAgeMs = 5 * 60_000,
  ) {
    super();
    const read = (id: string) => async () =>
      (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '';
    this.token = new CachedValue(read(ids.apiToken), maxAgeMs);
    this.signing = new CachedValue(read(ids.webhookSecret), maxAgeMs);
    this.callbackKey = new CachedValue(ids.callbackKey ? read(ids.callbackKey) : async () => '', maxAgeMs);
  }
  protected readCallbackKey() {
    return this.callbackKey.get();
  }
  protected readToken() {
    return this.token.get();
  }
  protected readSigningSecrets() {
    return this.signing.get();
  }
}

/** The local stack's secrets: plain values from its environment. */
export class StaticSecrets extends ParsedSecrets {
  constructor(private readonly values: { apiToken: string; webhookSecret: string; callbackKey?: string }) {
    super();
  }
  protected async readCallbackKey() {
    return this.values.callbackKey ?? '';
  }
  protected async readToken() {
    return this.values.apiToken;
  }
  protected async readSigningSecrets() {
    return this.values.webhookSecret;
  }
}

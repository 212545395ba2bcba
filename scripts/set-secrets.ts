/** scripts/: operator scripts for a deployed stack (set the secrets, list and redrive the DLQs). Import contract/. */
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Replicate from 'replicate';
import { DEFAULTS } from '../contract/defaults';
import { parseSigningSecrets, signingSecretProblem } from '../lambdas/core/webhook-signature';

/**
 * Sets the stack's two secrets after `cdk deploy`:
 * npm run secrets -- --token-secret <ApiTokenSecretName> --webhook-secret <WebhookSecretName> [--token r8_…] [--rotate]
 * The API token comes from --token or REPLICATE_API_TOKEN; the webhook signing secret is fetched from Replicate
 * (`GET /v1/webhooks/default/secret`) with that token. With --rotate the secret in force is kept after the new
 * one (`whsec_new,whsec_old`), so webhooks signed with either verify while Replicate switches over.
 */
export async function setSecrets(options: {
  secretsManager: SecretsManagerClient;
  token: string;
  tokenSecretId: string;
  webhookSecretId: string;
  replicateBaseUrl?: string;
  rotate?: boolean;
}): Promise<{ webhookSecrets: number }> {
  const replicate = new Replicate({
    auth: options.token,
    baseUrl: options.replicateBaseUrl ?? DEFAULTS.replicateApiBaseUrl,
  });
  const { key } = (await replicate.webhooks.default.secret.get()) as { key: string };
  parseSigningSecrets(key); // refuse to store what the webhook function would refuse to verify with
  let webhookSetting = key;
  if (options.rotate) {
    const current = await options.secretsManager.send(new GetSecretValueCommand({ SecretId: options.webhookSecretId }));
    // An entry the verifier refuses (the UNSET placeholder, a hand-edited one) was never in force: carried
    // over, it would make the whole setting refused, so it is dropped.
    const previous = (current.SecretString ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== key && !signingSecretProblem(s));
    webhookSetting = [key, ...previous.slice(0, 1)].join(',');
  }
  await options.secretsManager.send(
    new PutSecretValueCommand({ SecretId: options.tokenSecretId, SecretString: options.token }),
  );
  await options.secretsManager.send(
    new PutSecretValueCommand({ SecretId: options.webhookSecretId, SecretString: webhookSetting }),
  );
  return { webhookSecrets: webhookSetting.split(',').length };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'token-secret': { type: 'string' },
      'webhook-secret': { type: 'string' },
      token: { type: 'string' },
      rotate: { type: 'boolean', default: false },
      'replicate-api-base-url': { type: 'string' },
    },
  });
  const token = values.token ?? process.env.REPLICATE_API_TOKEN;
  if (!values['token-secret'] || !values['webhook-secret'] || !token) {
    throw new Error(
      'usage: npm run secrets -- --token-secret <ApiTokenSecretName> --webhook-secret <WebhookSecretName> [--token r8_… | REPLICATE_API_TOKEN=…] [--rotate]',
    );
  }
  const result = await setSecrets({
    secretsManager: new SecretsManagerClient({}),
    token,
    tokenSecretId: values['token-secret'],
    webhookSecretId: values['webhook-secret'],
    replicateBaseUrl: values['replicate-api-base-url'] ?? process.env.REPLICATE_API_BASE_URL,
    rotate: values.rotate,
  });
  process.stdout.write(
    `Secrets set (${result.webhookSecrets} webhook signing secret(s) in force). Functions pick them up within 5 minutes.\n`,
  );
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSecrets } from '../../adapters/secrets';
import type { AwsContainer } from '../aws';

/** The secrets, read from Secrets Manager by ARN and cached (adapters/secrets.ts). */
export const secrets = (container: AwsContainer) =>
  new SecretsManagerSecrets(container.traced(new SecretsManagerClient({})), container.secretIds);

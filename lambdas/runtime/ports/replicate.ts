import { ReplicateHttpGateway } from '../../adapters/replicate-gateway';
import type { Secrets } from '../../core/ports';
import type { AwsContainer } from '../aws';

/** Replicate's API, with the token from the secrets. */
export const replicate = (container: AwsContainer, secrets: Secrets) =>
  new ReplicateHttpGateway({ token: () => secrets.replicateApiToken(), baseUrl: container.settings.replicateBaseUrl });

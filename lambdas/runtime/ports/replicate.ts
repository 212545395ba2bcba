import { ReplicateHttpGateway } from '../../adapters/replicate-gateway';
import type { Secrets } from '../../core/ports';
import type { RuntimeSettings } from '../settings';

/** Replicate's API, with the token from the secrets. */
export const replicate = (settings: RuntimeSettings, secrets: Secrets, fetch?: typeof globalThis.fetch) =>
  new ReplicateHttpGateway({ token: () => secrets.replicateApiToken(), baseUrl: settings.replicateBaseUrl, fetch });

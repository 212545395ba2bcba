import { callbackSecretFor } from '../core/callback-signing';
import type { Dependencies } from './dependencies';

/**
 * The owner's callback signing secret (`whsec_…`), derived from the master key: what its callbacks are signed with
 * and what `GET /callbacks/secret` (and Replicate's `GET /v1/webhooks/default/secret`) tell it.
 */
export async function callbackSecretOf(deps: Pick<Dependencies, 'secrets'>, owner: string): Promise<string> {
  return callbackSecretFor(await deps.secrets.callbackMasterKey(), owner);
}

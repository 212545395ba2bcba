import { createHmac } from 'node:crypto';

/**
 * Each owner's callback signing secret, derived from one master key: nothing per owner to store or leak, and
 * the owner reads it with `GET /callbacks/secret` (authenticated by its API key). Callbacks are signed the
 * Standard Webhooks way, like Replicate's webhooks, so any Standard Webhooks library verifies them.
 */
export function callbackSecretFor(masterKey: Buffer, owner: string): string {
  return `whsec_${createHmac('sha256', masterKey).update(`callback-secret:${owner}`).digest('base64')}`;
}

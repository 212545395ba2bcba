import { callbackSecretOf } from '../use-cases/callback-secret';
import type { Operation } from './operation';

/** `GET /callbacks/secret`: the caller's own callback signing secret (`whsec_…`), to verify callbacks with. */
export const callbackSecretOperation: Operation = {
  name: 'callbackSecret',
  method: 'GET',
  path: '/callbacks/secret',
  function: 'status',
  apiKeyRequired: true,
  summary: "The caller's callback signing secret (whsec_…), to verify callbacks with any Standard Webhooks library",
  success: { status: 200, description: 'The secret', schema: 'secret' },
  errors: ['unauthorized', 'internal_error'],
  handle: async (request, deps) => ({
    body: { secret: await callbackSecretOf(deps, request.owner) },
  }),
};

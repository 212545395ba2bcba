import { WEBHOOK_PATH } from '../core/job';
import { receiveWebhook } from '../use-cases/receive-webhook';
import type { Operation } from './operation';

/** `POST /webhooks/replicate`: Replicate's webhooks, verified and queued; 2xx only once durably queued. */
export const receiveWebhookOperation: Operation = {
  name: 'receiveWebhook',
  method: 'POST',
  path: WEBHOOK_PATH,
  function: 'webhook',
  apiKeyRequired: false,
  summary: "Replicate's webhook receiver (Standard Webhooks signature, no API key)",
  success: { status: 202, description: 'Queued (a replay too: the consumer ignores it)', schema: 'accepted' },
  errors: ['invalid_signature', 'invalid_prediction', 'body_too_large', 'queue_unavailable', 'webhook_not_configured'],
  async handle(request, deps) {
    await receiveWebhook(deps, { headers: request.headers, rawBody: request.body, jobId: request.query.job });
    return { body: { received: true } };
  },
};

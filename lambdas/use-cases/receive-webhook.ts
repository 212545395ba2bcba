import { InvalidRequest, Unauthenticated, Unavailable } from '../core/errors';
import { MAX_WEBHOOK_BODY_BYTES } from '../core/limits';
import { METRIC } from '../core/metrics';
import { parsePrediction } from '../core/prediction';
import { InvalidSigningSecret, verifyWebhook } from '../core/webhook-signature';
import type { Dependencies } from './dependencies';
import { enqueuePrediction } from './enqueue-prediction';

export interface WebhookDelivery {
  headers: Record<string, string | undefined>;
  rawBody: string;
  /** The `job` the webhook URL names, for logs only: the consumer reads it from the signed body. */
  jobId?: string;
}

/**
 * Replicate's webhook: verify the signature, put the body on the queue. Nothing slow happens here (no
 * download, no table access at all): the consumer does the work. Returns only once the message is durably queued; if
 * queueing fails it throws Unavailable (a 5xx) so Replicate retries.
 */
export async function receiveWebhook(deps: Dependencies, delivery: WebhookDelivery): Promise<void> {
  const { rawBody, jobId } = delivery;
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
    throw new InvalidRequest('body_too_large', 'Webhook body too large');
  }
  let keys: Buffer[];
  try {
    keys = await deps.secrets.webhookSigningKeys();
  } catch (error) {
    if (error instanceof InvalidSigningSecret) {
      // Fail closed, and loudly: nothing verifies until an operator fixes the setting (alarm
      // WebhookSecretInvalid). A 5xx, not a 4xx: Replicate retries terminal webhooks, the reconciler polls the rest.
      deps.metrics.count(METRIC.webhookSecretInvalid);
      deps.log.error('webhook signing secret unusable', {
        code: error.code,
        problem: error.problem,
        entry: error.entry,
        error,
      });
      throw new Unavailable('webhook_not_configured', 'Webhooks cannot be verified now; retry later');
    }
    deps.log.error('webhook signing secret unavailable', { error });
    throw new Unavailable('queue_unavailable', 'Webhook could not be accepted now; retry later');
  }
  const now = deps.clock();
  const verification = verifyWebhook({ headers: delivery.headers, rawBody, keys, now });
  if (!verification.ok) {
    deps.metrics.count(METRIC.webhookRejected);
    deps.log.warn('webhook rejected', { reason: verification.reason, jobId });
    // The reason is logged, never told: a forger learns nothing from the answer.
    throw new Unauthenticated('invalid_signature', 'Invalid webhook signature');
  }
  // A signed body is still input: one that cannot be a prediction is refused before anything is written.
  const parsed = parsePrediction(rawBody);
  if (!parsed.ok) {
    deps.log.warn('signed webhook body is not a prediction', { webhookId: verification.id, reason: parsed.reason });
    throw new InvalidRequest('invalid_prediction', parsed.reason);
  }
  // No replay check here: a delivery seen before (a replay, or Replicate retrying one we already queued) is
  // queued again and ignored by the consumer, whose state machine applies each status once and never goes back.
  try {
    const message = { source: 'webhook', webhookId: verification.id, receivedAt: now.toISOString() } as const;
    await enqueuePrediction(deps, message, rawBody, verification.id);
  } catch (error) {
    deps.log.error('webhook could not be queued', { webhookId: verification.id, error });
    throw new Unavailable('queue_unavailable', 'Webhook could not be queued; retry later');
  }
  deps.log.debug('webhook queued', { webhookId: verification.id, jobId });
}

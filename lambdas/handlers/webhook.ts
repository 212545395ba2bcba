import { ApiError } from '../core/errors';
import { errorResponse, jsonResponse, type HttpResponse } from '../core/http';
import { METRIC } from '../core/metrics';
import { parsePrediction } from '../core/prediction';
import { InvalidSigningSecret, verifyWebhook } from '../core/webhook-signature';
import { rawBodyOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { enqueuePrediction } from './enqueue-prediction';

/**
 * Lambda's payload limit (6 MiB for the whole API Gateway event, body included): a larger body never reaches
 * the function in AWS. Checked here too, so the limit holds wherever the handler runs.
 */
export const MAX_WEBHOOK_BODY_BYTES = 6 * 1024 * 1024;

/**
 * `POST /webhooks/replicate`: verify the signature, put the body on the queue, answer 2xx. Nothing slow
 * happens here (no download, no table write): the consumer does the work. 2xx only once the message is
 * durably queued; if queueing fails we answer 5xx so Replicate retries.
 */
export const receiveWebhook =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    const rawBody = rawBodyOf(event);
    if (Buffer.byteLength(rawBody, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
      return errorResponse(new ApiError('body_too_large', 'Webhook body too large'));
    }
    let keys: Buffer[];
    try {
      keys = await deps.secrets.webhookSigningKeys();
    } catch (error) {
      if (error instanceof InvalidSigningSecret) {
        // Fail closed, and loudly: nothing verifies until an operator fixes the setting (alarm
        // WebhookSecretInvalid). A 5xx, not a 4xx: Replicate retries terminal webhooks, the reconciler polls the rest.
        deps.metrics.count(METRIC.webhookSecretInvalid);
        deps.log.error('webhook signing secret unusable', { code: error.code, problem: error.problem, entry: error.entry, error });
        return errorResponse(new ApiError('webhook_not_configured', 'Webhooks cannot be verified now; retry later'));
      }
      deps.log.error('webhook signing secret unavailable', { error });
      return errorResponse(new ApiError('queue_unavailable', 'Webhook could not be accepted now; retry later'));
    }
    const now = deps.clock();
    const verification = verifyWebhook({ headers: event.headers, rawBody, keys, now });
    if (!verification.ok) {
      deps.metrics.count(METRIC.webhookRejected);
      deps.log.warn('webhook rejected', { reason: verification.reason, jobId: event.queryStringParameters?.job });
      // The reason is logged, never told: a forger learns nothing from the answer.
      return errorResponse(new ApiError('invalid_signature', 'Invalid webhook signature'));
    }
    // A signed body is still input: one that cannot be a prediction is refused before anything is written.
    const parsed = parsePrediction(rawBody);
    if (!parsed.ok) {
      deps.log.warn('signed webhook body is not a prediction', { webhookId: verification.id, reason: parsed.reason });
      return errorResponse(new ApiError('invalid_prediction', parsed.reason));
    }
    // A delivery seen before (a replay, or Replicate retrying one we already queued) is acknowledged and ignored.
    // The receipt is written before queueing and taken back if queueing fails, so a retry is not mistaken for a replay.
    try {
      if (!(await deps.receipts.remember(verification.id, now))) {
        deps.log.info('webhook already received; ignored', { webhookId: verification.id });
        return jsonResponse(202, { received: true });
      }
    } catch (error) {
      deps.log.error('webhook receipt could not be recorded', { webhookId: verification.id, error });
      return errorResponse(new ApiError('queue_unavailable', 'Webhook could not be accepted now; retry later'));
    }
    try {
      await enqueuePrediction(
        deps,
        { source: 'webhook', webhookId: verification.id, receivedAt: now.toISOString() },
        rawBody,
        verification.id,
      );
    } catch (error) {
      deps.log.error('webhook could not be queued', { webhookId: verification.id, error });
      await deps.receipts.forget(verification.id).catch(() => undefined);
      return errorResponse(new ApiError('queue_unavailable', 'Webhook could not be queued; retry later'));
    }
    deps.log.debug('webhook queued', { webhookId: verification.id, jobId: event.queryStringParameters?.job });
    return jsonResponse(202, { received: true });
  };

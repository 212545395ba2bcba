import { randomBytes } from 'node:crypto';
import { parseSigningSecrets, signWebhook } from '../../lambdas/core/webhook-signature';
import type { PredictionEvent, SimulatedPrediction } from './lifecycle';

/** One webhook POST the simulator made, and what the receiver answered. */
export interface WebhookDelivery {
  predictionId: string;
  event: string;
  status: string;
  responseStatus: number | 'error';
}

export interface SendOptions {
  /** The body to send instead of the prediction as it stands (a stale or forged one, for tests). */
  body?: string;
  /** Retry until a 2xx, as Replicate retries terminal webhooks (6 attempts, backing off from 50 ms). */
  retry?: boolean;
}

/** The events Replicate sends when a prediction was created without `webhook_events_filter`. */
const ALL_EVENTS: readonly string[] = ['start', 'output', 'logs', 'completed'];
const ATTEMPTS_WITH_RETRY = 6;

/**
 * Sends a prediction's webhooks signed exactly as Replicate signs them (Standard Webhooks: HMAC-SHA256 with the
 * key of the first `whsec_` secret of the setting), and records every delivery.
 */
export class WebhookSender {
  private readonly key: Buffer;
  readonly deliveries: WebhookDelivery[] = [];

  constructor(
    signingSecrets: string,
    private readonly predictions: ReadonlyMap<string, SimulatedPrediction>,
  ) {
    this.key = parseSigningSecrets(signingSecrets)[0];
  }

  /**
   * Sends an event's webhook if the prediction asked for it (a webhook URL, the event in its filter) and its
   * scenario sends webhooks at all. Does not wait: the terminal one keeps retrying in the background.
   */
  notify(prediction: SimulatedPrediction, event: PredictionEvent, scenarioSendsWebhooks: boolean) {
    if (!prediction.webhook || !scenarioSendsWebhooks) return;
    if (!(prediction.webhook_events_filter ?? ALL_EVENTS).includes(event)) return;
    void this.send(prediction.id, event, { retry: event === 'completed' });
  }

  /** Sends a webhook for a prediction now, signed; answers the receiver's last status (or 'error'). */
  async send(id: string, event: string, options: SendOptions = {}): Promise<number | 'error'> {
    const prediction = this.predictions.get(id);
    if (!prediction) throw new Error(`The simulator has no prediction ${id}`);
    const body = options.body ?? JSON.stringify(prediction);
    const attempts = options.retry ? ATTEMPTS_WITH_RETRY : 1;
    let result: number | 'error' = 'error';
    for (let attempt = 0; attempt < attempts; attempt++) {
      result = await this.post(prediction.webhook, body);
      this.deliveries.push({ predictionId: id, event, status: prediction.status, responseStatus: result });
      if (typeof result === 'number' && result < 300) break;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
    return result;
  }

  /** One signed POST; each attempt is signed afresh, with a new message id and timestamp. */
  private async post(url: string | undefined, body: string): Promise<number | 'error'> {
    if (url === undefined) return 'error'; // a prediction created without a webhook: nowhere to send it
    const webhookId = `msg_${randomBytes(12).toString('hex')}`;
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(this.key, webhookId, timestamp, body),
        },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 'error';
    }
  }
}

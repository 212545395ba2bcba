import { MAX_ATTEMPTS, retryDelaySeconds } from '../core/callback-fairness';
import { apiBaseUrlOf, type Job } from '../core/job';
import type { ReceivedMessage } from '../core/ports';
import { toPrediction } from '../core/replicate-prediction';
import { parseSigningSecrets, signWebhook } from '../core/webhook-signature';
import { callbackSecretOf } from './callback-secret';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';

/** A received callback message with the job it names, and which attempt this receive makes. */
export interface Callback {
  record: ReceivedMessage;
  job: Job & { callbackUrl: string };
  attempt: number;
}

/**
 * One attempt at a job's callback: the signed POST (`webhook-id` is the same on every attempt, so a receiver
 * can drop duplicates), given up when `signal` aborts, told to `answered` at once, then appended to the job's
 * delivery log. A failure comes back after an exponential backoff; after the last attempt the callback goes to
 * the callbacks DLQ. True when the message is done with.
 */
export async function deliverCallback(
  deps: Dependencies,
  { record, job, attempt }: Callback,
  signal: AbortSignal,
  answered: (delivered: boolean) => void,
): Promise<boolean> {
  const now = deps.clock();
  const view = await presentJob(deps, job);
  // A `/v1` create's `webhook` gets Replicate's prediction object, which Replicate's clients read and verify as is.
  const body = JSON.stringify(
    job.callbackShape === 'prediction'
      ? toPrediction(job, view, apiBaseUrlOf(job), { now })
      : { type: 'job.ended', job: view },
  );
  const key = parseSigningSecrets(await callbackSecretOf(deps, job.owner))[0];
  const webhookId = `msg_${job.id}`;
  const timestamp = Math.floor(now.getTime() / 1000);
  const answer = await deps.callbackEndpoint.post(
    job.callbackUrl,
    body,
    {
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(key, webhookId, timestamp, body),
    },
    signal,
  );
  const delivered = answer.status >= 200 && answer.status < 300;
  answered(delivered);
  const context = { jobId: job.id, owner: job.owner, attempt, status: answer.status };
  await deps.jobs
    .recordCallbackDelivery(job.id, {
      at: now.toISOString(),
      attempt,
      status: answer.status,
      ...(answer.error ? { error: answer.error } : {}),
    })
    .catch((error) => deps.log.warn('could not record a callback delivery', { ...context, error }));
  if (delivered) {
    deps.log.info('callback delivered', context);
    return true;
  }
  if (attempt >= MAX_ATTEMPTS) {
    // Dead-lettered here, not by the queue's redrive: a callback that waited went back as a new message, whose
    // receives restart. Its attempts start again if it is redriven.
    try {
      await deps.callbackDeadLetters.send({ jobId: job.id });
      deps.log.error('callback not delivered after its last attempt; moved to the callbacks DLQ', {
        ...context,
        error: answer.error,
      });
      return true;
    } catch (error) {
      deps.log.error('could not move a callback to the DLQ; it is retried instead', { ...context, error });
    }
  }
  const backoff = retryDelaySeconds(deps.settings.callbacks.retryBaseSeconds, attempt);
  deps.log.warn('callback not delivered; retrying later', { ...context, error: answer.error, retryInSeconds: backoff });
  await deps.callbacks.retryLater(record.receiptHandle, backoff).catch(() => undefined);
  return false;
}

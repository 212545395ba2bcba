import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { callbackSecretFor } from '../core/callback-signing';
import type { CallbackMessage } from '../core/ports';
import { parseSigningSecrets, signWebhook } from '../core/webhook-signature';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';
import { processBatch } from './sqs-batch';

/** SQS keeps a message hidden for at most 12 hours; callbacks back off up to 15 minutes between attempts. */
const MAX_BACKOFF_SECONDS = 900;

/**
 * Delivers client callbacks: POSTs `{"type":"job.ended","job":…}` to the job's `callbackUrl`, signed with the
 * owner's secret (Standard Webhooks headers; `webhook-id` is the same on every attempt, so a receiver can
 * drop duplicates). Each attempt is appended to the job's delivery log; a failed one comes back after an
 * exponential backoff, and after the queue's receives it rests in the callbacks DLQ.
 */
export const deliverCallbacks =
  (deps: Dependencies) =>
  (event: SQSEvent): Promise<SQSBatchResponse> =>
    processBatch(event, (record) => deliver(deps, record));

async function deliver(deps: Dependencies, record: SQSRecord): Promise<boolean> {
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  let message: CallbackMessage;
  try {
    message = JSON.parse(record.body) as CallbackMessage;
  } catch {
    deps.log.error('callback message is not JSON; dropped', { messageId: record.messageId });
    return true;
  }
  const job = typeof message.jobId === 'string' ? await deps.jobs.get(message.jobId) : undefined;
  if (!job?.callbackUrl) {
    deps.log.warn('callback for no job, or a job without callbackUrl; dropped', { messageId: record.messageId, jobId: message.jobId });
    return true;
  }
  const now = deps.clock();
  const body = JSON.stringify({ type: 'job.ended', job: await presentJob(deps, job) });
  const key = parseSigningSecrets(callbackSecretFor(await deps.secrets.callbackMasterKey(), job.owner))[0];
  const webhookId = `msg_${job.id}`;
  const timestamp = Math.floor(now.getTime() / 1000);
  const answer = await deps.callbackEndpoint.post(job.callbackUrl, body, {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(key, webhookId, timestamp, body),
  });
  const delivered = answer.status >= 200 && answer.status < 300;
  await deps.jobs
    .recordCallbackDelivery(job.id, { at: now.toISOString(), attempt, status: answer.status, ...(answer.error ? { error: answer.error } : {}) })
    .catch((error) => deps.log.warn('could not record a callback delivery', { jobId: job.id, error }));
  const context = { jobId: job.id, owner: job.owner, attempt, status: answer.status };
  if (delivered) {
    deps.log.info('callback delivered', context);
    return true;
  }
  const backoff = Math.min(MAX_BACKOFF_SECONDS, deps.settings.callbacks.retryBaseSeconds * 2 ** (attempt - 1));
  deps.log.warn('callback not delivered; retrying later', { ...context, error: answer.error, retryInSeconds: backoff });
  await deps.callbacks.retryLater(record.receiptHandle, backoff).catch(() => undefined);
  return false;
}

import { webhookBodyKey } from '../../contract/bucket';
import type { QueueMessage } from '../core/ports';
import type { Dependencies } from './dependencies';

/**
 * SQS takes at most 256 KiB a message; webhook bodies reach 6 MB, Lambda's payload limit (a language model's long output). A body
 * over this size goes to S3 first and the message carries its key; the consumer reads it back.
 */
export const MAX_INLINE_BODY_BYTES = 200 * 1024;

export async function enqueuePrediction(
  deps: Pick<Dependencies, 'queue' | 'objects'>,
  message: Omit<QueueMessage, 'body' | 'bodyKey'>,
  body: string,
  bodyId: string,
): Promise<void> {
  if (Buffer.byteLength(body, 'utf8') <= MAX_INLINE_BODY_BYTES) {
    await deps.queue.send({ ...message, body });
    return;
  }
  const bodyKey = webhookBodyKey(message.receivedAt, bodyId);
  await deps.objects.putText(bodyKey, body);
  await deps.queue.send({ ...message, bodyKey });
}

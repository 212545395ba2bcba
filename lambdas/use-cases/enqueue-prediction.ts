import { webhookBodyKey } from '../../contract/bucket';
import { MAX_INLINE_BODY_BYTES } from '../core/limits';
import type { QueueMessage } from '../core/ports';
import type { Dependencies } from './dependencies';

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

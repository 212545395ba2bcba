import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PoisonMessage, TransferInProgress } from '../core/errors';
import type { QueueMessage } from '../core/ports';
import { applyPredictionEvent } from '../use-cases/apply-prediction-event';
import type { Dependencies } from '../use-cases/dependencies';
import { processRecords } from './batch';

/** The SQS consumer: applies each prediction event to its job; a record that fails is retried alone. */
export const consumePredictions =
  (deps: Dependencies) =>
  (event: SQSEvent): Promise<SQSBatchResponse> =>
    processRecords(event, async (record) => {
      try {
        await applyPredictionEvent(deps, parseMessage(record.body), record.messageId);
        return true;
      } catch (error) {
        await handleFailure(deps, record, error);
        return false;
      }
    });

function parseMessage(body: string): QueueMessage {
  try {
    const message = JSON.parse(body) as QueueMessage;
    if (typeof message === 'object' && message !== null && (message.body || message.bodyKey)) return message;
  } catch {
    // fall through
  }
  throw new PoisonMessage('The queue message is not a prediction event');
}

async function handleFailure(deps: Dependencies, record: SQSRecord, error: unknown): Promise<void> {
  const context = { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount };
  if (error instanceof TransferInProgress) {
    // A duplicate of a message whose outputs are being copied: it comes back once the lease could have expired,
    // as the backup for a holder that crashed.
    deps.log.info('outputs are being copied by another consumer; retrying later', context);
    await deps.queue.retryLater(record.receiptHandle, error.retryAfterSeconds).catch(() => undefined);
  } else if (error instanceof PoisonMessage) {
    deps.log.error('message can never succeed; it goes to the dead-letter queue after its receives', {
      ...context,
      reason: error.message,
    });
  } else {
    deps.log.error('message failed; it will be retried', { ...context, error });
  }
}

import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * What Lambda's SQS event source does, locally: receive batches, hand them to the consumer as an SQS event,
 * delete the records it did not report as failed. Failed ones reappear after their visibility timeout and
 * go to the dead-letter queue after the redrive policy's receives.
 */
export function startQueuePoller(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn?: string;
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Batches processed at once (Lambda's maximum concurrency). */
  concurrency?: number;
  onError?: (error: unknown) => void;
}): { stop(): Promise<void> } {
  const abort = new AbortController();
  let running = true;

  async function loop() {
    while (running) {
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        const records: SQSRecord[] = messages.map((message) => ({
          messageId: message.MessageId!,
          receiptHandle: message.ReceiptHandle!,
          body: message.Body ?? '',
          attributes: message.Attributes as unknown as SQSRecord['attributes'],
          messageAttributes: {},
          md5OfBody: message.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:local',
          awsRegion: 'us-east-1',
        }));
        const result = await options.consumer({ Records: records });
        const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = records.filter((record) => !failed.has(record.messageId));
        if (done.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (!running) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  const loops = Array.from({ length: options.concurrency ?? 2 }, loop);
  return {
    async stop() {
      running = false;
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventSourceModel } from './cloud/app-model';

/**
 * Lambda's SQS event source mapping, as the template configures it: up to `MaximumConcurrency` pollers, each
 * gathering up to `BatchSize` messages for at most `MaximumBatchingWindowInSeconds`, invoking the function,
 * then deleting what succeeded. With `ReportBatchItemFailures` only the reported records stay; a function
 * error keeps the whole batch. Kept records reappear after the visibility timeout and go to the dead-letter
 * queue after the redrive policy's receives. It polls with the function's own credentials, as Lambda does
 * with the execution role, so those grants are checked too.
 */
export function startQueuePoller(options: {
  mapping: EventSourceModel;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  invoke: (event: SQSEvent) => Promise<unknown>;
  onError?: (error: unknown) => void;
}): { stop(): Promise<void> } {
  const { mapping } = options;
  const abort = new AbortController();
  let running = true;

  async function gather(): Promise<Message[]> {
    const messages: Message[] = [];
    const deadline = Date.now() + mapping.maxBatchingWindowSeconds * 1000;
    do {
      const received = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.min(10, mapping.batchSize - messages.length),
          // Long-poll for the first message; then only as long as the batching window has left.
          WaitTimeSeconds: messages.length === 0 ? 1 : Math.max(0, Math.floor((deadline - Date.now()) / 1000)),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      messages.push(...(received.Messages ?? []));
      if (messages.length === 0) return messages;
      if (!received.Messages?.length) await new Promise((resolve) => setTimeout(resolve, 20));
    } while (running && messages.length < mapping.batchSize && Date.now() < deadline);
    return messages;
  }

  async function loop() {
    while (running) {
      try {
        const messages = await gather();
        if (messages.length === 0) continue;
        const records = messages.map((message) => toRecord(message, options.queueArn, options.region));
        let failed: Set<string>;
        try {
          const result = (await options.invoke({ Records: records })) as SQSBatchResponse | undefined;
          failed = new Set(
            mapping.reportBatchItemFailures
              ? (result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier)
              : [],
          );
        } catch (error) {
          options.onError?.(error);
          continue; // the function failed: every record stays, to come back after its visibility timeout
        }
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

  // Lambda reads the queue's attributes when the mapping is created (and fails to create it without the grant).
  const started = options.sqs
    .send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['VisibilityTimeout'] }))
    .then(
      () => true,
      (error) => {
        options.onError?.(error);
        return false;
      },
    );
  const loops = Array.from({ length: mapping.maxConcurrency ?? 5 }, async () => (await started) && loop());
  return {
    async stop() {
      running = false;
      abort.abort();
      // A batch in progress gets a moment to finish; a long one (the admitter waits out Replicate's pace for up
      // to a minute) is ended with its function, which the stack stops next.
      await Promise.race([
        Promise.allSettled(loops),
        new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref()),
      ]);
    },
  };
}

/** How long stopping waits for the batches in progress. */
const STOP_GRACE_MS = 3_000;

function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: message.Attributes as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          stringValue: value.StringValue,
          binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
          stringListValues: [],
          binaryListValues: [],
          dataType: value.DataType!,
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { type Emulators, startEmulators } from '../../local/emulators';
import { startQueuePoller } from '../../local/queue-poller';

/** The event source mapping's batch settings, against the real SQS emulator. */
describe('local SQS event source', () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators.stop());

  it('hands the function batches of at most BatchSize, gathered within the batching window', async () => {
    const { QueueUrl } = await emulators.clients.sqs.send(new CreateQueueCommand({ QueueName: 'batches' }));
    await emulators.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })),
      }),
    );
    const sizes: number[] = [];
    const poller = startQueuePoller({
      mapping: {
        functionLogicalId: 'F',
        queueLogicalId: 'Q',
        batchSize: 3,
        maxBatchingWindowSeconds: 1,
        reportBatchItemFailures: true,
        maxConcurrency: 1,
      },
      sqs: emulators.clients.sqs,
      queueUrl: QueueUrl!,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:batches',
      region: 'us-east-1',
      invoke: async (event) => {
        sizes.push(event.Records.length);
        return { batchItemFailures: [] };
      },
    });
    const deadline = Date.now() + 15_000;
    while (sizes.reduce((a, b) => a + b, 0) < 10 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await poller.stop();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
  });
});

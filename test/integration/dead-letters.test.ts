import { consumePredictions } from '../../lambdas/sqs/consume-predictions';
import { listDeadLetters, redriveDeadLetters } from '../../scripts/dead-letters';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { sqsRecord } from '../support/sqs-record';

/**
 * Poison messages: reported alone, redriven to the DLQ after the configured receives, listed and redriven by script.
 */
describe('poison messages and the dead-letter queue (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ consumerTimeoutSeconds: 1, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
  });
  afterAll(() => stack.stop());

  const record = (messageId: string, body: string) => sqsRecord(messageId, body);

  it('reports only the poison records of a batch; the rest take effect', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { webhooks: false, output: 'text' } } });
    await eventually(() => stack.simulator!.predictions.get(job.predictionId!)!.status === 'succeeded');
    const good = JSON.stringify({
      source: 'webhook',
      receivedAt: new Date().toISOString(),
      body: JSON.stringify(stack.simulator!.predictions.get(job.predictionId!)),
    });
    const result = await consumePredictions(stack.deps)({
      Records: [
        record('not-json', '{'),
        record('not-a-prediction', JSON.stringify({ source: 'webhook', body: '{"hello":1}' })),
        record(
          'unknown-job',
          JSON.stringify({ source: 'webhook', body: JSON.stringify({ id: 'nobody', status: 'succeeded' }) }),
        ),
        record(
          'odd-job-id',
          JSON.stringify({
            source: 'webhook',
            body: JSON.stringify({
              id: 'nobody',
              status: 'succeeded',
              webhook: `https://x/webhooks/replicate?job=${'a'.repeat(5000)}`,
            }),
          }),
        ),
        record('good', good),
      ],
    });
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      'not-a-prediction',
      'not-json',
      'odd-job-id',
      'unknown-job',
    ]);
    // Each is known to be poison (never retried in vain as an unexpected error).
    const poison = stack.log.lines
      .filter((line) => line.message.startsWith('message can never succeed'))
      .map((line) => line.extra.messageId);
    expect(poison.sort()).toEqual(['not-a-prediction', 'not-json', 'odd-job-id', 'unknown-job']);
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
  });

  it('moves a poison webhook to the DLQ after the configured receives; the script lists and redrives it', async () => {
    const { dead: dlq, queue } = {
      dead: stack.emulators.resources.deadLetterQueueUrl,
      queue: stack.emulators.resources.queueUrl,
    };
    const sqs = stack.emulators.clients.sqs;
    const prediction = stack.simulator!.predictions.values().next().value!;
    const poison = JSON.stringify({ id: 'no-such-prediction', status: 'succeeded' });
    expect(await stack.simulator!.sendWebhook(prediction.id, 'completed', { body: poison })).toBe(202);

    let letters: Awaited<ReturnType<typeof listDeadLetters>> = [];
    await eventually(async () => {
      letters = await listDeadLetters(sqs, dlq);
      return letters.length === 1;
    }, 15_000);
    expect(letters[0]).toMatchObject({
      source: 'webhook',
      predictionId: 'no-such-prediction',
      webhookId: expect.stringMatching(/^msg_/),
    });
    // Received exactly maxReceiveCount (2) times by the deployed consumer before the redrive moved it. The second
    // receive's log line travels from the function's process and may land just after the move: waited for, then
    // counted again once the queue had time to receive it a third time (which must not happen).
    const receives = () =>
      stack.log.lines.filter(
        (line) =>
          line.message.startsWith('message can never succeed') &&
          String(line.extra.reason).includes('no-such-prediction'),
      );
    await eventually(() => receives().length >= 2, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receives()).toHaveLength(2);
    // Listing only peeks: the message is still there.
    expect(await listDeadLetters(sqs, dlq)).toHaveLength(1);

    expect(await redriveDeadLetters(sqs, dlq, queue)).toBe(1);
    expect(await listDeadLetters(sqs, dlq)).toHaveLength(0);
    // Still poison, it comes back to the DLQ after its receives: redriving never loses a message.
    await eventually(async () => (await listDeadLetters(sqs, dlq)).length === 1, 15_000);
  });

  it('keeps a whole batch when the function itself fails, so it reaches the DLQ rather than vanishing', async () => {
    const broken = await startTestStack({
      consumerTimeoutSeconds: 1,
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
      editTemplate: (template) => {
        for (const resource of Object.values(template.Resources)) {
          if (
            resource.Type === 'AWS::Lambda::Function' &&
            JSON.stringify(resource.Metadata).includes('ConsumerFunction')
          )
            resource.Properties.Handler = 'index.missing';
        }
      },
    });
    try {
      await broken.submit({ model: 'a/b', input: {} });
      await eventually(
        async () =>
          (await listDeadLetters(broken.emulators.clients.sqs, broken.emulators.resources.deadLetterQueueUrl))
            .length === 1,
        20_000,
      );
    } finally {
      await broken.stop();
    }
  });
});

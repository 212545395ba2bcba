import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { HttpCallbackEndpoint } from '../../lambdas/adapters/http-callback-endpoint';
import { DEADLINE_GRACE_MS } from '../../lambdas/core/limits';
import { deliverCallbacks } from '../../lambdas/sqs/deliver-callbacks';
import type { CloudAssembly } from '../../local/cloud/synthesize';
import { CallbackReceiver, endedJob } from '../support/callback-receiver';
import { startTestStack, type TestStack } from '../support/local-stack';
import { HangingHost } from '../support/silent-hosts';
import { sqsRecord } from '../support/sqs-record';

/** The stack without the callback queue's event source: the test hands the sender its batches itself. */
function withoutCallbackEventSource(template: CloudAssembly['template']) {
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (
      resource.Type === 'AWS::Lambda::EventSourceMapping' &&
      String(resource.Properties.FunctionName.Ref).startsWith('ReplicateJobsCallbackFunction')
    ) {
      delete template.Resources[id];
    }
  }
}

/** The callback sender's handler, given batches by hand, against the local stack's table and queues. */
describe('the callback sender, batch by batch', () => {
  let stack: TestStack;
  const hanging = new HangingHost();
  const receiver = new CallbackReceiver();
  beforeAll(async () => {
    stack = await startTestStack({
      editTemplate: withoutCallbackEventSource,
      env: { CALLBACK_RETRY_BASE_SECONDS: '1' },
    });
    await Promise.all([hanging.start(), receiver.start()]);
  });
  afterAll(async () => {
    await stack.stop();
    await Promise.all([hanging.stop(), receiver.stop()]);
  });

  const record = (body: unknown, receiveCount = 1) =>
    sqsRecord(randomUUID(), JSON.stringify(body), { receiveCount, receiptHandle: 'not-a-received-message' });
  const send = (records: SQSRecord[], deps = stack.deps) => deliverCallbacks(deps)({ Records: records });

  /** Waits for the message about `jobId` on a queue, takes it, and says when it could first be received. */
  async function take(queueUrl: string, jobId: string, timeoutMs = 10_000): Promise<{ body: any; at: number }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { Messages = [] } = await stack.emulators.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 0,
        }),
      );
      const mine = Messages.find((message) => JSON.parse(message.Body!).jobId === jobId);
      if (mine) {
        await stack.emulators.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: mine.ReceiptHandle! }),
        );
        return { body: JSON.parse(mine.Body!), at: Date.now() };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no message for ${jobId}`);
  }

  it("gives up what is still in flight at the batch's deadline: the hanging record is retried, the rest delivered", async () => {
    // Endpoint limits longer than the test: only the deadline can end the hanging delivery.
    const deps = {
      ...stack.deps,
      callbackEndpoint: new HttpCallbackEndpoint({
        blockPrivateAddresses: false,
        connectTimeoutMs: 60_000,
        firstByteTimeoutMs: 60_000,
      }),
      settings: { ...stack.deps.settings, callbacks: { ...stack.deps.settings.callbacks, deadlineMs: 1_000 } },
    };
    const [stuck, fine] = await Promise.all([
      endedJob(stack, 'dave', hanging.url),
      endedJob(stack, 'erin', receiver.url),
    ]);
    const records = [record({ jobId: stuck.id }), record({ jobId: fine.id })];
    const started = Date.now();
    const result = await send(records, deps);
    expect(Date.now() - started).toBeLessThan(1_000 + DEADLINE_GRACE_MS);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0].messageId }]);
    expect(receiver.delivered(fine.id)).toBeDefined();
    // The attempt ended through its own failure path: logged on the job, counted against its owner.
    expect((await stack.deps.jobs.get(stuck.id))!.callbackDeliveries).toEqual([
      { at: expect.any(String), attempt: 1, status: 0, error: "the batch's deadline (1000 ms) passed" },
    ]);
    expect((await stack.deps.callbackOwners.read('dave')).failures).toBe(1);
    expect((await stack.deps.callbackOwners.read('erin')).failures).toBe(0);
    // The owner's item goes a day after its last use (the table's TTL attribute), and stays out of the owner index.
    const item = (
      await DynamoDBDocumentClient.from(stack.emulators.clients.dynamo).send(
        new GetCommand({ TableName: stack.emulators.resources.tableName, Key: { id: 'callbacks#dave' } }),
      )
    ).Item!;
    expect(item.expiresAt * 1000 - Date.now()).toBeGreaterThan(86_000_000);
    expect(item.expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(item).not.toHaveProperty('owner');
  }, 20_000);

  it('reports a record failed once the grace after the deadline is over, when what hangs is not the POST', async () => {
    const deps = {
      ...stack.deps,
      objects: { ...stack.deps.objects, presignGet: () => new Promise<string>(() => undefined) }, // S3 never answers
      settings: { ...stack.deps.settings, callbacks: { ...stack.deps.settings.callbacks, deadlineMs: 500 } },
    };
    const job = await endedJob(stack, 'ivan', receiver.url, {
      outputs: [{ index: 0, key: 'outputs/ivan/x.png', contentType: 'image/png', size: 1 }],
    });
    const records = [record({ jobId: job.id })];
    const started = Date.now();
    const result = await send(records, deps);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500 + DEADLINE_GRACE_MS);
    expect(Date.now() - started).toBeLessThan(500 + DEADLINE_GRACE_MS + 1_000);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0].messageId }]);
    expect(receiver.requests.get(job.id)).toBeUndefined();
  }, 20_000);

  it('sends the callbacks of an owner whose share is in flight back to the queue, delayed, keeping their attempts', async () => {
    const owners = stack.deps.callbackOwners;
    const now = Date.now();
    // Two batches (of another sender) have been delivering frank's callbacks for 5 s: its share is taken.
    expect(
      await owners.lease('frank', await owners.read('frank'), { a: now - 5_000, b: now - 5_000 }, new Date(now)),
    ).toBe(true);
    const job = await endedJob(stack, 'frank', receiver.url);
    const sent = Date.now();
    const result = await send([record({ jobId: job.id }, 3)]); // received three times: two attempts failed
    expect(result.batchItemFailures).toEqual([]); // done with: it went back as a new message
    expect(receiver.requests.get(job.id)).toBeUndefined();
    const requeued = await take(stack.emulators.resources.callbackQueueUrl, job.id);
    expect(requeued.body).toEqual({ jobId: job.id, attempts: 2 });
    expect(requeued.at - sent).toBeGreaterThanOrEqual(1_500); // delayed (2 s), not visible at once
    // Once the share is free, its next receive is attempt 3, not 1.
    await owners.settle('frank', 'a', true, new Date());
    await owners.settle('frank', 'b', true, new Date());
    expect((await send([record(requeued.body)])).batchItemFailures).toEqual([]);
    expect((await stack.deps.jobs.get(job.id))!.callbackDeliveries).toEqual([
      { at: expect.any(String), attempt: 3, status: 204 },
    ]);
  }, 30_000);

  it('waits here for a share held by batches of a fast endpoint, instead of going back to the queue', async () => {
    const owners = stack.deps.callbackOwners;
    const now = Date.now();
    expect(await owners.lease('gina', await owners.read('gina'), { a: now, b: now }, new Date(now))).toBe(true);
    const job = await endedJob(stack, 'gina', receiver.url);
    setTimeout(() => void owners.settle('gina', 'a', true, new Date()), 300);
    const started = Date.now();
    expect((await send([record({ jobId: job.id })])).batchItemFailures).toEqual([]);
    expect(receiver.delivered(job.id)! - started).toBeGreaterThanOrEqual(300);
    expect(receiver.delivered(job.id)! - started).toBeLessThan(1_500);
    expect(stack.log.lines.some((l) => l.message.startsWith('callback waits') && l.extra.jobId === job.id)).toBe(false);
    // A share that does not free: it stops waiting within a second and goes back to the queue.
    const stuck = Date.now();
    expect(await owners.lease('gina', await owners.read('gina'), { a: stuck, b: stuck }, new Date(stuck))).toBe(true);
    const later = await endedJob(stack, 'gina', receiver.url);
    expect((await send([record({ jobId: later.id })])).batchItemFailures).toEqual([]);
    expect(Date.now() - stuck).toBeLessThan(2_000);
    expect(receiver.requests.get(later.id)).toBeUndefined();
    expect(
      stack.log.lines.some(
        (l) => l.message === 'callback waits: its owner has its share of the sender' && l.extra.jobId === later.id,
      ),
    ).toBe(true);
  });

  it('moves a callback whose last attempt failed to the callbacks DLQ, where a redrive starts its attempts again', async () => {
    receiver.status = 500;
    try {
      const job = await endedJob(stack, 'hana', receiver.url);
      // It waited once after seven failed attempts: a new message, first received, carrying them.
      expect((await send([record({ jobId: job.id, attempts: 7 })])).batchItemFailures).toEqual([]);
      expect((await stack.deps.jobs.get(job.id))!.callbackDeliveries).toEqual([
        { at: expect.any(String), attempt: 8, status: 500 },
      ]);
      expect((await take(stack.emulators.resources.callbackDeadLetterQueueUrl, job.id)).body).toEqual({
        jobId: job.id,
      });
    } finally {
      receiver.status = 204;
    }
  });
});

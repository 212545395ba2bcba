import { type Readable, Transform } from 'node:stream';
import type { SQSRecord } from 'aws-lambda';
import { OutputFailure } from '../../lambdas/core/errors';
import { parseSigningSecrets, signWebhook } from '../../lambdas/core/webhook-signature';
import type { ApiEvent } from '../../lambdas/http/api-event';
import { consumePredictions } from '../../lambdas/sqs/consume-predictions';
import type { Dependencies } from '../../lambdas/use-cases/dependencies';
import { receiveWebhook, submitJob } from '../support/api-handlers';
import { Crash, FaultPlan, withFaults as withStackFaults } from '../support/faults';
import { eventually, startTestStack, storedKeys, type TestStack } from '../support/local-stack';
import { predictionRecord, quotaItem } from '../support/records';

/**
 * Crash safety: the handlers run against the real emulators with a fault plan that kills them before each
 * adapter call in turn (so between every pair of writes), and once mid-stream. Then the message is delivered
 * again, as SQS does, and the job must end right: succeeded, each output stored once, bytes intact.
 */
describe('crash safety', () => {
  let stack: TestStack;
  let now = Date.now();
  beforeAll(async () => {
    // The clock stands still here: the create rate is raised so its one window never fills.
    stack = await startTestStack({ env: { DOWNLOAD_RETRY_BASE_MS: '1', REPLICATE_CREATES_PER_MINUTE: '600000' } });
    stack.deps.clock = () => new Date(now);
  });
  afterAll(() => stack.stop());

  const withFaults = (plan: FaultPlan): Dependencies => withStackFaults(stack.deps, plan);

  const submitEvent = (body: unknown, headers: Record<string, string> = {}): ApiEvent => ({
    body: JSON.stringify(body),
    isBase64Encoded: false,
    headers,
    path: '/jobs',
    pathParameters: null,
    queryStringParameters: null,
    requestContext: { domainName: 'localhost', path: '/jobs', stage: 'local', identity: { apiKeyId: 'alice' } },
  });

  /** A job whose prediction completed at the simulator without webhooks; answers the record to deliver. */
  async function completedJob(): Promise<{ id: string; predictionId: string; record: SQSRecord }> {
    const response = await submitJob(stack.deps)(
      submitEvent({
        model: 'a/b',
        input: { simulate: { webhooks: false, output: 'images', count: 2, sizeBytes: 64 * 1024 } },
      }),
    );
    const job = JSON.parse(response.body);
    await eventually(() => stack.simulator!.predictions.get(job.predictionId)!.status === 'succeeded');
    return { id: job.id, predictionId: job.predictionId, record: recordFor(job.predictionId, `msg-${job.id}`) };
  }

  const inFlight = async () => Number((await quotaItem(stack, 'alice')).inFlight ?? 0);
  /** Requests the simulator served for the prediction's files (each download, retries included). */
  const downloadsOf = (predictionId: string) =>
    [...stack.simulator!.downloads.entries()]
      .filter(([path]) => path.includes(predictionId))
      .reduce((sum, [, count]) => sum + count, 0);

  const recordFor = (predictionId: string, messageId: string): SQSRecord =>
    predictionRecord(stack, predictionId, messageId, new Date(now));

  async function expectRightOnce(id: string, predictionId: string) {
    const job = await stack.deps.jobs.get(id);
    expect(job).toMatchObject({ status: 'succeeded', error: null });
    expect(job!.outputs.map((o) => o.key)).toEqual([0, 1].map((i) => `outputs/alice/${id}/${i}.png`));
    expect(await storedKeys(stack, `outputs/alice/${id}/`)).toEqual(job!.outputs.map((o) => o.key));
    const urls = stack.simulator!.predictions.get(predictionId)!.output as string[];
    for (const [i, stored] of job!.outputs.entries()) {
      const copy = Buffer.from(await (await fetch(await stack.deps.objects.presignGet(stored.key, 60))).arrayBuffer());
      expect(copy.equals(stack.simulator!.fileBytes(urls[i]))).toBe(true);
    }
  }

  // The consumer's adapter calls for a two-file output: get, lease, open+upload ×2, record the first copied
  // (the success write records the last), advance, release the slot.
  const CONSUMER_CALLS = 8;
  it.each(Array.from({ length: CONSUMER_CALLS }, (_, i) => i + 1))(
    'consumer killed before adapter call %i recovers on redelivery',
    async (crashAt) => {
      const { id, predictionId, record } = await completedJob();
      const slotsBefore = await inFlight(); // this job's slot included
      const plan = new FaultPlan(crashAt);
      const first = await consumePredictions(withFaults(plan))({ Records: [record] });
      // Dying before giving the owner's slot back does not fail the message (the leak is repaired by the quota);
      // dying anywhere else leaves it unacknowledged. Either way SQS may deliver it again.
      const lastCall = plan.calls[crashAt - 1];
      expect(first.batchItemFailures).toEqual(
        lastCall === 'quota.release' ? [] : [{ itemIdentifier: record.messageId }],
      );
      expect(plan.dead).toBe(true);
      expect(plan.calls).toHaveLength(crashAt); // the call it died before is recorded, never made
      const downloadsBefore = downloadsOf(predictionId);
      const again = await consumePredictions(stack.deps)({ Records: [record] });
      expect(again.batchItemFailures).toEqual([]);
      await expectRightOnce(id, predictionId);
      // Counted, not only the final state: the slot comes back exactly once (or leaks, when the process died
      // just before giving it back), and the redelivery downloads only what the first delivery did not record.
      expect(await inFlight()).toBe(lastCall === 'quota.release' ? slotsBefore : slotsBefore - 1);
      const downloadedAgain = downloadsOf(predictionId) - downloadsBefore;
      const recordedBeforeCrash =
        plan.calls.slice(0, crashAt - 1).includes('jobs.recordCopiedOutput') ||
        plan.calls.slice(0, crashAt - 1).includes('jobs.advance');
      expect(downloadedAgain).toBeLessThanOrEqual(recordedBeforeCrash ? 1 : 2);
      if (plan.calls.slice(0, crashAt - 1).includes('jobs.advance')) expect(downloadedAgain).toBe(0);
    },
  );

  it('the fault plan covers every adapter call of a successful run (no crash point left untested)', async () => {
    const { record } = await completedJob();
    const plan = new FaultPlan();
    await consumePredictions(withFaults(plan))({ Records: [record] });
    expect(plan.calls).toHaveLength(CONSUMER_CALLS);
    expect(plan.calls).toEqual([
      'jobs.acquireTransferLease', // the lease, answering with the job: no read first
      'outputs.open',
      'outputs.open',
      'objects.upload',
      'objects.upload',
      'jobs.recordCopiedOutput',
      'jobs.advance',
      'quota.release',
    ]);
  });

  it('consumer killed mid-stream: the duplicate waits out the lease, then takes the transfer over', async () => {
    const { id, predictionId, record } = await completedJob();
    const plan = new FaultPlan();
    const dying = withFaults(plan);
    const source = dying.outputs;
    dying.outputs = {
      async open(url) {
        const opened = await source.open(url);
        let seen = 0;
        const killer = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            seen += chunk.length;
            if (seen > 16 * 1024) {
              plan.dead = true;
              return done(new Crash('mid-stream'));
            }
            done(null, chunk);
          },
        });
        return { ...opened, body: (opened.body as Readable).pipe(killer) };
      },
    };
    expect((await consumePredictions(dying)({ Records: [record] })).batchItemFailures).toHaveLength(1);
    // Another copy of the webhook (a different message), a moment later but well within the lease, finds the
    // dead holder's lease and backs off… (the clock moves: with one frozen instant a zero-length lease would pass)
    const duplicate = recordFor(predictionId, `dup-${id}`);
    now += 1000;
    expect((await consumePredictions(stack.deps)({ Records: [duplicate] })).batchItemFailures).toHaveLength(1);
    expect((await stack.deps.jobs.get(id))!.status).not.toBe('succeeded');
    // …and once the lease has expired it takes over.
    now += stack.deps.settings.transferLeaseSeconds * 1000;
    expect((await consumePredictions(stack.deps)({ Records: [duplicate] })).batchItemFailures).toEqual([]);
    await expectRightOnce(id, predictionId);
  });

  it('an event written while outputs are copied does not make the consumer copy them again', async () => {
    const { id, predictionId, record } = await completedJob();
    const prediction = stack.simulator!.predictions.get(predictionId)!;
    const stale = recordFor(predictionId, `stale-${id}`);
    stale.body = JSON.stringify({
      source: 'webhook',
      receivedAt: new Date(now).toISOString(),
      body: JSON.stringify({ ...prediction, status: 'processing', output: null }),
    });
    const opened: string[] = [];
    const racing: Dependencies = {
      ...stack.deps,
      outputs: {
        async open(url) {
          opened.push(url);
          if (opened.length === 1) {
            now += 5_000; // the stale event is written later, mid-copy
            expect((await consumePredictions(stack.deps)({ Records: [stale] })).batchItemFailures).toEqual([]);
            now -= 5_000; // and this consumer's clock is behind
          }
          return stack.deps.outputs.open(url);
        },
      },
    };
    expect((await consumePredictions(racing)({ Records: [record] })).batchItemFailures).toEqual([]);
    expect(opened).toHaveLength(2); // two files, each opened once
    await expectRightOnce(id, predictionId);
  });

  it('an event written while a doomed copy runs does not make the consumer download again before failing the job', async () => {
    const { id, predictionId, record } = await completedJob();
    const prediction = stack.simulator!.predictions.get(predictionId)!;
    const stale = recordFor(predictionId, `stale-fail-${id}`);
    stale.body = JSON.stringify({
      source: 'webhook',
      receivedAt: new Date(now).toISOString(),
      body: JSON.stringify({ ...prediction, status: 'processing', output: null }),
    });
    let opened = 0;
    let staleWritten: Promise<unknown> | undefined;
    const racing: Dependencies = {
      ...stack.deps,
      outputs: {
        async open() {
          opened++;
          // The stale event is written later, mid-copy, before any download gives up.
          staleWritten ??= (async () => {
            now += 5_000;
            expect((await consumePredictions(stack.deps)({ Records: [stale] })).batchItemFailures).toEqual([]);
            now -= 5_000;
          })();
          await staleWritten;
          throw new OutputFailure('output_too_large', 'too large', true);
        },
      },
    };
    expect((await consumePredictions(racing)({ Records: [record] })).batchItemFailures).toEqual([]);
    expect(await stack.deps.jobs.get(id)).toMatchObject({ status: 'failed', error: { code: 'output_too_large' } });
    expect(opened).toBeLessThanOrEqual(2); // one copy attempt (two files at most), never a second round
  });

  it('submit killed between creating the prediction and recording its id: the webhook records it', async () => {
    // quota.acquire, admission.state, jobs.create, admission.tryTake, replicate.createPrediction, ✗ jobs.recordPrediction
    const plan = new FaultPlan(6);
    const response = await submitJob(withFaults(plan))(
      submitEvent({ model: 'a/b', input: { simulate: { webhooks: false, output: 'images', count: 2 } } }),
    );
    expect(response.statusCode).toBe(500);
    expect(plan.calls).toEqual([
      'quota.acquire',
      'admission.state',
      'jobs.create',
      'admission.tryTake',
      'replicate.createPrediction',
      'jobs.recordPrediction',
    ]);
    const [prediction] = [...stack.simulator!.predictions.values()].slice(-1);
    const job = (await stack.deps.jobs.findByPredictionId(prediction.id)) ?? undefined;
    expect(job).toBeUndefined(); // the id was never recorded…
    await eventually(() => prediction.status === 'succeeded');
    const record = recordFor(prediction.id, 'late-webhook');
    expect((await consumePredictions(stack.deps)({ Records: [record] })).batchItemFailures).toEqual([]);
    const recovered = await stack.deps.jobs.findByPredictionId(prediction.id); // …until the webhook wrote it
    expect(recovered).toMatchObject({ status: 'succeeded', predictionId: prediction.id });
    await expectRightOnce(recovered!.id, prediction.id);
  });

  it('a webhook whose message cannot be queued answers 503, so Replicate retries it', async () => {
    const plan = new FaultPlan(1, true); // ✗ queue.send (SQS fails once)
    const body = JSON.stringify({ id: 'p', status: 'succeeded' });
    const timestamp = Math.floor(now / 1000);
    const signature = signWebhook(parseSigningSecrets(stack.webhookSecret)[0], 'msg_1', timestamp, body);
    const event = {
      ...submitEvent({}),
      body,
      path: '/webhooks/replicate',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
    };
    const response = await receiveWebhook(withFaults(plan))(event);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error.code).toBe('queue_unavailable');
    // Replicate's retry of the same delivery is queued: nothing in the request path remembers the first try.
    const retry = await receiveWebhook(stack.deps)({ ...event });
    expect(retry.statusCode).toBe(202);
  });
});

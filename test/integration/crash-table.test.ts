import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { parseSigningSecrets, signWebhook } from '../../lambdas/core/webhook-signature';
import type { ApiEvent } from '../../lambdas/http/api-event';
import { consumePredictions } from '../../lambdas/sqs/consume-predictions';
import { admitWaitingJobs } from '../../lambdas/use-cases/admit-waiting-jobs';
import type { Dependencies } from '../../lambdas/use-cases/dependencies';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { receiveWebhook, submitJob } from '../support/api-handlers';
import { FaultPlan, withFaults as withStackFaults } from '../support/faults';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { predictionRecord, quotaItem } from '../support/records';

/**
 * The README's crash table, row by row: each test kills a handler at the row's point with a fault plan (the
 * process dies before that adapter call; nothing after it happens), then checks what is left and that what
 * the row says recovers it does, counting the owner's in-flight slots and the calls made, not only final states.
 */
describe('the crash table (README), one test per row', () => {
  let stack: TestStack;
  let receiver: Server;
  let callbackUrl = '';
  let offsetMs = 0;
  beforeAll(async () => {
    stack = await startTestStack({
      reconcileIntervalSeconds: 0,
      apiKeys: 'alice=key-alice,tiny=key-tiny',
      env: {
        OWNER_LIMITS: JSON.stringify({
          default: { maxInFlight: 50, maxPerDay: 10_000 },
          owners: { tiny: { maxInFlight: 1 } },
        }),
      },
    });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  afterEach(() => {
    offsetMs = 0;
  });
  afterAll(async () => {
    await stack.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const withFaults = (plan: FaultPlan): Dependencies => withStackFaults(stack.deps, plan);
  const inFlight = async (owner: string) => Number((await quotaItem(stack, owner)).inFlight ?? 0);
  const apiEvent = (owner: string, body: string, extra: Partial<ApiEvent> = {}): ApiEvent => ({
    body,
    isBase64Encoded: false,
    headers: {},
    path: '/jobs',
    pathParameters: null,
    queryStringParameters: null,
    requestContext: { domainName: 'localhost', path: '/jobs', stage: 'local', identity: { apiKeyId: owner } },
    ...extra,
  });
  const submit = (deps: Dependencies, owner: string, body: object, headers: Record<string, string> = {}) =>
    submitJob(deps)({ ...apiEvent(owner, JSON.stringify(body)), headers });
  /** A webhook delivery of the prediction as it is now at the simulator, signed as Replicate signs it. */
  const webhookEvent = (jobId: string, predictionId: string, webhookId: string): ApiEvent => {
    const body = JSON.stringify(stack.simulator!.predictions.get(predictionId));
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook(parseSigningSecrets(stack.webhookSecret)[0], webhookId, timestamp, body);
    return apiEvent('', body, {
      path: '/webhooks/replicate',
      queryStringParameters: { job: jobId },
      headers: { 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
    });
  };
  const recordFor = (predictionId: string, messageId: string): SQSRecord =>
    predictionRecord(stack, predictionId, messageId);
  /** A job whose prediction ended at the simulator, no webhook sent: the test delivers it. */
  async function endedJob(owner: string, simulate: object, extra: object = {}) {
    const response = await submit(stack.deps, owner, {
      model: 'a/b',
      input: { simulate: { webhooks: false, ...simulate } },
      ...extra,
    });
    const job = JSON.parse(response.body);
    await eventually(() =>
      ['succeeded', 'failed'].includes(stack.simulator!.predictions.get(job.predictionId)!.status),
    );
    return job as { id: string; predictionId: string };
  }

  it("submit, after taking the owner's slot, before the job is written: a counted slot, repaired at the limit", async () => {
    const items = await stack.itemCount();
    const predictions = stack.simulator!.predictions.size;
    const plan = new FaultPlan(3); // quota.acquire, admission.state, ✗ jobs.create
    const response = await submit(withFaults(plan), 'tiny', { model: 'a/b', input: {} });
    expect(response.statusCode).toBe(500);
    expect(plan.calls).toEqual(['quota.acquire', 'admission.state', 'jobs.create']);
    expect(stack.simulator!.predictions.size).toBe(predictions);
    expect(await stack.itemCount()).toBe(items + 1); // the owner's counter item, no job
    expect(await inFlight('tiny')).toBe(1); // a slot counted for a job that does not exist
    // The owner (limit 1) is refused while the slot may still belong to a submit in progress…
    expect((await submit(stack.deps, 'tiny', { model: 'a/b', input: {} })).statusCode).toBe(429);
    // …and once the grace has passed (the slot taken over a minute ago), the counter is recounted from the
    // unfinished jobs (none) and the submit goes in.
    await DynamoDBDocumentClient.from(stack.emulators.clients.dynamo).send(
      new UpdateCommand({
        TableName: stack.emulators.resources.tableName,
        Key: { id: 'quota#tiny' },
        UpdateExpression: 'SET lastAcquiredAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 61_000).toISOString() },
      }),
    );
    const repaired = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'key-tiny' });
    expect(repaired.status).toBe(202);
    expect(await inFlight('tiny')).toBe(1); // the real job's slot only
    await stack.waitFor(repaired.json.id, undefined, { key: 'key-tiny' });
    await eventually(async () => (await inFlight('tiny')) === 0);
  });

  it('submit, after the job is written, before Replicate is called: the reconciler fails it retryable and gives the slot back', async () => {
    const before = await inFlight('alice');
    const body = { model: 'a/b', input: { simulate: { output: 'text' } } };
    const headers = { 'idempotency-key': 'crash-before-create' };
    // jobs.get (the key's job?), quota.acquire, admission.state, jobs.create, admission.tryTake, ✗ replicate.createPrediction
    const plan = new FaultPlan(6);
    await submit(withFaults(plan), 'alice', body, headers); // a dead process answers nothing: only what it left counts
    expect(plan.calls.at(-1)).toBe('replicate.createPrediction');
    const [id] = (await stack.request('/jobs?limit=1')).json.jobs.map((job: { id: string }) => job.id);
    expect((await stack.request(`/jobs/${id}`)).json).toMatchObject({ status: 'queued', predictionId: null });
    expect(await inFlight('alice')).toBe(before + 1);
    offsetMs = 301_000;
    expect(await reconcile(stack.deps)).toMatchObject({ abandoned: 1 });
    expect((await stack.request(`/jobs/${id}`)).json).toMatchObject({
      status: 'failed',
      error: { code: 'submit_failed' },
    });
    expect(await inFlight('alice')).toBe(before);
    offsetMs = 0;
    const retried = await stack.submit(body, { headers });
    expect(retried).toMatchObject({ id, predictionId: expect.any(String) });
    expect((await stack.waitFor(id)).status).toBe('succeeded');
    await eventually(async () => (await inFlight('alice')) === before);
  });

  it('admitter, after taking a waiting job out of the line, before Replicate is called: the reconciler fails it retryable and gives the slot back', async () => {
    const before = await inFlight('alice');
    const body = { model: 'a/b', input: { simulate: { output: 'text' } } };
    const headers = { 'idempotency-key': 'crash-in-admitter' };
    // Submitted while jobs wait (the admission state says so, and no admitter is woken): the job waits too.
    const backlog = Object.assign(Object.create(stack.deps.admission), { state: async () => ({ backlogSince: 'x' }) });
    const waited = JSON.parse((await submit({ ...stack.deps, admission: backlog }, 'alice', body, headers)).body);
    expect(waited).toMatchObject({ status: 'queued', waitingSince: expect.any(String) });
    // admission.lease, jobs.listWaiting, admission.state, admission.tryTake, jobs.claimWaiting, ✗ replicate.createPrediction
    const plan = new FaultPlan(6);
    await admitWaitingJobs(withFaults(plan), { holder: 'doomed', budgetMs: 2_000 }).catch(() => undefined);
    expect(plan.calls.at(-1)).toBe('replicate.createPrediction');
    expect((await stack.request(`/jobs/${waited.id}`)).json).toMatchObject({
      status: 'queued',
      predictionId: null,
      waitingSince: null, // out of the line: no admitter will take it again
    });
    expect(await inFlight('alice')).toBe(before + 1);
    offsetMs = 301_000; // SUBMIT_GRACE_SECONDS after the admitter took it
    expect(await reconcile(stack.deps)).toMatchObject({ abandoned: 1 });
    expect((await stack.request(`/jobs/${waited.id}`)).json).toMatchObject({
      status: 'failed',
      error: { code: 'submit_failed' },
    });
    expect(await inFlight('alice')).toBe(before);
    offsetMs = 0;
    const retried = await stack.submit(body, { headers });
    expect(retried).toMatchObject({ id: waited.id });
    expect((await stack.waitFor(waited.id)).status).toBe('succeeded');
    await eventually(async () => (await inFlight('alice')) === before); // given back just after `succeeded`
  });

  it("webhook, killed before it queued: it answers 503, and Replicate's retry of the delivery is queued", async () => {
    const before = await inFlight('alice');
    const job = await endedJob('alice', { output: 'text' });
    const event = webhookEvent(job.id, job.predictionId, `msg_${job.id}_a`);
    const plan = new FaultPlan(1); // ✗ queue.send: the webhook's only write
    expect((await receiveWebhook(withFaults(plan))(event)).statusCode).toBe(503);
    expect(plan.calls).toEqual(['queue.send']);
    expect((await stack.request(`/jobs/${job.id}`)).json.status).toBe('queued');
    expect((await receiveWebhook(stack.deps)({ ...event })).statusCode).toBe(202);
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
    await eventually(async () => (await inFlight('alice')) === before);
  });

  it('webhook, when Replicate retried a delivery already queued: both are queued, the job ends once', async () => {
    const before = await inFlight('alice');
    const job = await endedJob('alice', { output: 'text' });
    const event = webhookEvent(job.id, job.predictionId, `msg_${job.id}_b`);
    expect((await receiveWebhook(stack.deps)(event)).statusCode).toBe(202);
    expect((await receiveWebhook(stack.deps)({ ...event })).statusCode).toBe(202);
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
    await eventually(() =>
      stack.log.lines.some(
        (line) =>
          line.message === 'prediction event ignored' &&
          line.extra.jobId === job.id &&
          line.extra.reason === 'terminal',
      ),
    );
    await eventually(async () => (await inFlight('alice')) === before);
  });

  // The failure path: a failed prediction with a callbackUrl. Calls: read the job, write `failed`, queue its
  // callback, give the slot back. The message is redelivered after a crash, as SQS does.
  const FAILURE_CALLS = ['jobs.get', 'jobs.advance', 'callbacks.send', 'quota.release'];
  it.each(FAILURE_CALLS.map((call, i) => [call, i + 1] as const))(
    'consumer, failure path, killed before %s',
    async (_call, crashAt) => {
      const before = await inFlight('alice');
      const job = await endedJob('alice', { fail: 'boom' }, { callbackUrl });
      expect(await inFlight('alice')).toBe(before + 1);
      const plan = new FaultPlan(crashAt);
      const record = recordFor(job.predictionId, `fail-${job.id}`);
      const first = await consumePredictions(withFaults(plan))({ Records: [record] });
      expect(plan.calls).toEqual(FAILURE_CALLS.slice(0, crashAt));
      // Before the terminal write the message is left for redelivery; after it, the job's end is recorded and
      // what follows is best effort (a lost callback, a leaked slot), so the message is acknowledged.
      const terminalWritten = crashAt > 2;
      expect(first.batchItemFailures).toEqual(terminalWritten ? [] : [{ itemIdentifier: record.messageId }]);
      const redelivery = new FaultPlan(); // no fault: it only records the calls
      const observed = {
        ...stack.deps,
        callbacks: redelivery.wrap('callbacks', stack.deps.callbacks),
        quota: redelivery.wrap('quota', stack.deps.quota),
      };
      expect((await consumePredictions(observed)({ Records: [record] })).batchItemFailures).toEqual([]);
      expect(await stack.deps.jobs.get(job.id)).toMatchObject({
        status: 'failed',
        error: { code: 'prediction_failed' },
      });
      // Callbacks queued, both deliveries together: one, unless the process died just before queueing it (the
      // lost-callback row). The slot: given back once, unless the process died before that (the leaked-slot row).
      const made = [...plan.calls.slice(0, crashAt - 1), ...redelivery.calls];
      expect(made.filter((call) => call === 'callbacks.send')).toHaveLength(crashAt === 3 ? 0 : 1);
      expect(made.filter((call) => call === 'quota.release')).toHaveLength(crashAt >= 3 ? 0 : 1);
      expect(await inFlight('alice')).toBe(crashAt >= 3 ? before + 1 : before);
    },
  );
});

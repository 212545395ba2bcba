import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { quotaItem } from '../support/records';

const LIMITS = { default: { maxInFlight: 5, maxPerDay: 100 }, owners: { bob: { maxRefusalsPerMinute: 2 } } };

/**
 * What a submission Replicate does not take leaves behind. A refusal costs the owner (its day's count, its
 * refusal rate) and sends no callback; an unknown outcome (5xx, timeout) keeps the slot until it is known.
 */
describe('submissions Replicate does not take (local stack)', () => {
  let stack: TestStack;
  let receiver: Server;
  let callbackUrl = '';
  const callbacksFor = new Map<string, number>();
  let offsetMs = 0;
  beforeAll(async () => {
    stack = await startTestStack({
      reconcileIntervalSeconds: 0,
      env: { OWNER_LIMITS: JSON.stringify(LIMITS), CALLBACK_RETRY_BASE_SECONDS: '1' },
      apiKeys: 'alice=key-alice,bob=key-bob,carol=key-carol,dave=key-dave',
    });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
    receiver = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const id = JSON.parse(body).job.id as string;
      callbacksFor.set(id, (callbacksFor.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    await stack.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const quota = (owner: string) => quotaItem(stack, owner);
  const submit = (key: string, input: object, extra: object = {}, headers: Record<string, string> = {}) =>
    stack.request('/jobs', { body: { model: 'a/b', input, ...extra }, key, headers });

  it("a refusal keeps the day's count, sends no callback, and past the owner's refusal rate Replicate is not called", async () => {
    // Refusals are counted per UTC minute: start early in one, so that the test stays within it.
    if (new Date().getUTCSeconds() > 40)
      await new Promise((resolve) => setTimeout(resolve, (61 - new Date().getUTCSeconds()) * 1000));
    const rejected = await submit('key-bob', { simulate: { reject: 'bad input' } }, { callbackUrl });
    expect(rejected).toMatchObject({ status: 422, json: { error: { code: 'replicate_rejected_input' } } });
    expect(await quota('bob')).toMatchObject({ inFlight: 0, accepted: 1, refusals: 1 });
    expect((await submit('key-bob', { simulate: { reject: 'bad input' } })).status).toBe(422);

    const creates = stack.simulator!.predictions.size;
    const limited = await submit('key-bob', { simulate: { reject: 'bad input' } });
    expect(limited).toMatchObject({
      status: 429,
      json: { error: { code: 'owner_limit_exceeded', details: { limit: 'refusals' } } },
    });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await submit('key-bob', {})).status).toBe(429); // a good request waits out the minute too
    expect(stack.simulator!.predictions.size).toBe(creates);
    expect(await quota('bob')).toMatchObject({ inFlight: 0, accepted: 2, refusals: 2 });
    expect((await submit('key-alice', {})).status).toBe(202); // other owners are not affected

    // A job that fails later does get its callback: once it has arrived, the refused job's would have too.
    const control = await submit('key-carol', { simulate: { fail: 'boom' } }, { callbackUrl });
    await eventually(() => callbacksFor.has(control.json.id), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callbacksFor.has(rejected.json.error.details.jobId)).toBe(false);
  });

  it("a refund after midnight still gives the slot back (the day's count is left to its own day; found by an attack)", async () => {
    const beforeMidnight = new Date('2026-11-29T23:59:59.500Z');
    expect(await stack.deps.quota.acquire('erin', beforeMidnight)).toEqual({ granted: true, shard: 0 });
    expect(await quota('erin')).toMatchObject({ inFlight: 1, accepted: 1, day: '2026-11-29' });
    await stack.deps.quota.release('erin', { refundDaily: true, countedAt: new Date('2026-11-30T00:00:00.500Z') });
    expect(await quota('erin')).toMatchObject({ inFlight: 0, accepted: 1 });
    await stack.deps.quota.acquire('erin', beforeMidnight);
    await stack.deps.quota.release('erin', { refundDaily: true, countedAt: beforeMidnight });
    expect(await quota('erin')).toMatchObject({ inFlight: 0, accepted: 1 }); // the same day: both come back
  });

  it('a 5xx after Replicate created the prediction: the job keeps its slot and goes on when the webhook names it', async () => {
    const response = await submit(
      'key-dave',
      { simulate: { createFails: 'after_creating', output: 'images', count: 2 } },
      { callbackUrl },
    );
    expect(response).toMatchObject({
      status: 502,
      json: { error: { code: 'replicate_unavailable', details: { outcome: 'unknown' } } },
    });
    const id = response.json.error.details.jobId as string;
    expect((await stack.request(`/jobs/${id}`, { key: 'key-dave' })).json).toMatchObject({
      status: expect.stringMatching(/queued|starting|processing|succeeded/),
    });
    const done = await stack.waitFor(id, undefined, { key: 'key-dave' });
    expect(done).toMatchObject({ status: 'succeeded', predictionId: expect.any(String) });
    expect(done.outputs).toHaveLength(2);
    await eventually(async () => (await quota('dave')).inFlight === 0);
    await eventually(() => callbacksFor.get(id) === 1, 15_000); // it ended later: the client is told then
  });

  it('a 5xx with nothing created: the slot is held until the reconciler gives up on it, then the key retries', async () => {
    const headers = { 'idempotency-key': 'uncertain-1' };
    const input = { simulate: { createFails: 'before_creating' } };
    const first = await submit('key-dave', input, {}, headers);
    expect(first).toMatchObject({
      status: 502,
      json: { error: { code: 'replicate_unavailable', details: { outcome: 'unknown' } } },
    });
    const id = first.json.error.details.jobId as string;
    expect(await quota('dave')).toMatchObject({ inFlight: 1 });
    // A retry now answers the job that may still run, rather than creating a second prediction.
    expect(await submit('key-dave', input, {}, headers)).toMatchObject({ status: 202, json: { id, status: 'queued' } });
    // Nor can it be canceled: its slot would come back while a prediction nobody can cancel runs on.
    const cancel = await stack.request(`/jobs/${id}/cancel`, { method: 'POST', key: 'key-dave' });
    expect(cancel).toMatchObject({ status: 409, json: { error: { code: 'submission_pending' } } });
    expect(Number(cancel.headers.get('retry-after'))).toBeGreaterThan(200);
    expect(await quota('dave')).toMatchObject({ inFlight: 1 });

    offsetMs = 200_000; // quiet (past reconcileAfter, 120 s), examined, yet too early to know
    const early = await reconcile(stack.deps);
    expect(early.examined).toBeGreaterThanOrEqual(1);
    expect(early.abandoned).toBe(0);
    expect(await quota('dave')).toMatchObject({ inFlight: 1 });
    offsetMs = 321_000; // past the grace, and quiet again since it was examined
    expect(await reconcile(stack.deps)).toMatchObject({ abandoned: 1 });
    offsetMs = 0;
    expect((await stack.request(`/jobs/${id}`, { key: 'key-dave' })).json).toMatchObject({
      status: 'failed',
      error: { code: 'submit_failed' },
    });
    expect(await quota('dave')).toMatchObject({ inFlight: 0 });
    // The retry submits again (Replicate is called, and fails the same way): the job is back to `queued`.
    expect(await submit('key-dave', input, {}, headers)).toMatchObject({
      status: 502,
      json: { error: { details: { jobId: id } } },
    });
    expect((await stack.request(`/jobs/${id}`, { key: 'key-dave' })).json).toMatchObject({
      status: 'queued',
      error: null,
    });
    expect(await quota('dave')).toMatchObject({ inFlight: 1 });
  });
});

import type { JobView } from '../../lambdas/core/job-view';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { storedJob } from '../support/records';

/**
 * Replicate's create limit, as deployed: the simulator creates at most 2 predictions a second (429 above,
 * `Retry-After: 1`), as Replicate limits an account, and the stack is told a rate a little under it
 * (`REPLICATE_CREATES_PER_MINUTE=100`). Every submission is accepted all the same, waits for capacity, and is
 * created in turn by the admitter. (2 a second, not Replicate's 10: on this 2-core machine the emulated table
 * accepts about 3.5 submits a second, so a limit of 10 would never be reached locally.)
 */
describe('admission: bursts above Replicate’s create rate (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      apiKeys: 'alice=key-alice,bob=key-bob',
      simulatorCreatesPerSecond: 2,
      reconcileIntervalSeconds: 2,
      env: {
        // A little under the simulator's 2 a second, as a deployer sets it under Replicate's limit.
        REPLICATE_CREATES_PER_MINUTE: '100',
        RECONCILE_AFTER_SECONDS: '300',
        OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 1000, maxPerDay: 100_000 } }),
      },
    });
  });
  afterAll(() => stack.stop());

  /** Submits `count` jobs for `key`, `concurrency` at a time; every answer. */
  async function burst(key: string, count: number, concurrency = 10, input: object = {}) {
    const answers: Array<{ status: number; json: JobView }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next++;
          answers.push(await stack.request('/jobs', { key, body: { model: 'a/b', input: { n: next, ...input } } }));
        }
      }),
    );
    return answers;
  }

  it('answers a burst from two owners 202 every time; all succeed at the pace allowed; bob is not starved', async () => {
    const started = Date.now();
    const aliceAnswers = await burst('key-alice', 60);
    expect(aliceAnswers.map((answer) => answer.status)).toEqual(aliceAnswers.map(() => 202));
    expect(aliceAnswers.filter((answer) => answer.json.waitingSince !== null).length).toBeGreaterThan(30);

    // Bob's jobs arrive behind alice's backlog and are created within a few seconds, not behind her burst.
    const aliceWaiting = async () =>
      (await stack.deps.jobs.listWaiting()).filter((job) => job.owner === 'alice').length;
    expect(await aliceWaiting()).toBeGreaterThan(20);
    const bobSubmittedAt = Date.now();
    const bobAnswers = await burst('key-bob', 4, 4);
    expect(bobAnswers.map((answer) => answer.status)).toEqual(bobAnswers.map(() => 202));
    await Promise.all(
      bobAnswers.map((answer) =>
        stack.waitFor(answer.json.id, (job) => job.predictionId !== null, { key: 'key-bob', timeoutMs: 30_000 }),
      ),
    );
    const bobSeconds = (Date.now() - bobSubmittedAt) / 1000;
    // Owners in turn at 100 a minute: bob's four are created in about 5 s, while alice's backlog still waits.
    expect(bobSeconds).toBeLessThan(10);
    expect(await aliceWaiting()).toBeGreaterThan(5);

    // Every job succeeds, at the pace allowed: 64 creates at 100 a minute take at least 37 s.
    const all = [
      ...aliceAnswers.map((answer) => [answer.json.id, 'key-alice']),
      ...bobAnswers.map((answer) => [answer.json.id, 'key-bob']),
    ];
    const done = await Promise.all(all.map(([id, key]) => stack.waitFor(id, undefined, { key, timeoutMs: 120_000 })));
    expect(done.map((job) => job.status)).toEqual(done.map(() => 'succeeded'));
    expect(done.every((job) => job.waitingSince === null)).toBe(true);
    expect((Date.now() - started) / 1000).toBeGreaterThan(37);
    // Our pace kept to the simulator's: it refused few creates (our windows are whole seconds, its window slides).
    // Without the pace, the admitter's 16 creates at once would be refused many times over.
    expect(stack.simulator!.throttled.count).toBeLessThan(20);
    await eventually(async () => (await stack.deps.jobs.listWaiting()).length === 0);
  }, 180_000);

  it('takes a waiting job out of the line once: a second admitter claiming it finds nothing', async () => {
    const job = storedJob();
    const { id, createdAt: at } = job;
    await stack.deps.jobs.create({ ...job, waitingSince: at });
    expect(await stack.deps.jobs.claimWaiting(id, at)).toMatchObject({ id });
    expect(await stack.deps.jobs.claimWaiting(id, at)).toBeUndefined();
    await stack.deps.jobs.finish(id, {
      status: 'canceled',
      error: { code: 'prediction_canceled', message: 'x' },
      updatedAt: at,
    });
  });

  it('keeps a job Replicate throttles waiting (Retry-After honoured), lets it be canceled, and times it out', async () => {
    const throttled = { simulate: { rateLimit: true } }; // Replicate answers 429, Retry-After: 7, every time
    const [toCancel, toTimeOut] = await Promise.all([
      stack.submit({ model: 'a/b', input: throttled }, { key: 'key-alice' }),
      stack.submit({ model: 'a/b', input: throttled, timeoutSeconds: 10 }, { key: 'key-alice' }),
    ]);
    for (const job of [toCancel, toTimeOut]) expect(job).toMatchObject({ status: 'queued', predictionId: null });
    await eventually(async () => (await stack.request(`/jobs/${toCancel.id}`, { key: 'key-alice' })).json.waitingSince);

    const canceled = await stack.request(`/jobs/${toCancel.id}/cancel`, { method: 'POST', key: 'key-alice' });
    expect(canceled).toMatchObject({ status: 200, json: { status: 'canceled', waitingSince: null } });
    const timedOut = await stack.waitFor(toTimeOut.id, undefined, { key: 'key-alice', timeoutMs: 40_000 });
    expect(timedOut).toMatchObject({ status: 'failed', error: { code: 'timeout' }, waitingSince: null });
    expect(await stack.deps.jobs.listWaiting()).toEqual([]);
    // Its 429 carried Retry-After: 7, which paused admission for every instance.
    const state = await stack.deps.admission.state(new Date(Date.now() + 60_000));
    expect(Date.parse(state.pausedUntil!)).toBeGreaterThan(Date.parse(toCancel.createdAt) + 6_000);
  }, 60_000);
});

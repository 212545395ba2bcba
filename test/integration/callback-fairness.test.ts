import { parkedUntil } from '../../lambdas/core/callback-fairness';
import { CallbackReceiver, endedJob } from '../support/callback-receiver';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';
import { HangingHost } from '../support/silent-hosts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const summary = (ms: number[]) =>
  `median ${[...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]} ms, max ${Math.max(...ms)} ms`;

/**
 * Fairness between owners in the callback sender, through the deployed bundles and the emulated event source
 * (5 concurrent batches of up to 10, as the template says).
 */
describe('callback fairness (local stack)', () => {
  let stack: TestStack;
  const hanging = new HangingHost();
  const healthy = new CallbackReceiver();
  const flaky = new CallbackReceiver();
  beforeAll(async () => {
    stack = await startTestStack({
      apiKeys: 'alice=key-alice,bob=key-bob,carol=key-carol',
      env: { CALLBACK_RETRY_BASE_SECONDS: '1' },
    });
    await Promise.all([hanging.start(), healthy.start(), flaky.start()]);
  });
  afterAll(async () => {
    await stack.stop();
    await Promise.all([hanging.stop(), healthy.stop(), flaky.stop()]);
  });

  /**
   * Queues the callbacks of five of alice's ended jobs at once: when each arrived, and how long after it was queued.
   */
  async function healthyRound(): Promise<{ arrivals: number[]; latencies: number[] }> {
    const jobs = await Promise.all([1, 2, 3, 4, 5].map(() => endedJob(stack, 'alice', healthy.url)));
    const queued = Date.now();
    await Promise.all(jobs.map((job) => stack.deps.callbacks.send({ jobId: job.id })));
    await eventually(() => jobs.every((job) => healthy.delivered(job.id)), 30_000);
    const arrivals = jobs.map((job) => healthy.delivered(job.id)!);
    return { arrivals, latencies: arrivals.map((at) => at - queued) };
  }

  it("an owner whose endpoint accepts and never answers does not delay another owner's callbacks", async () => {
    // Warms the sender's execution environments (up to 5 run at once): cold starts are not what is measured.
    for (let i = 0; i < 3; i++) await healthyRound();
    const alone = { latencies: [] as number[] };
    for (let i = 0; i < 3; i++) alone.latencies.push(...(await healthyRound()).latencies);
    // Bob's ten callbacks come one by one, as jobs end: each idle batch of the event source takes some.
    for (const job of await Promise.all(Array.from({ length: 10 }, () => endedJob(stack, 'bob', hanging.url)))) {
      await stack.deps.callbacks.send({ jobId: job.id });
      await sleep(100);
    }
    await eventually(() => hanging.accepted > 0, 20_000);
    const during = await healthyRound();
    await eventually(() => hanging.firstCloseAt > 0, 20_000);
    console.log(
      `healthy owner's callback latency (queued → POST arrived), 5 at once: alone (3 rounds) ${summary(alone.latencies)}; ` +
        `while another owner's endpoint hangs ${summary(during.latencies)} (the first hanging delivery was given up ${hanging.firstCloseAt - hanging.firstAcceptAt} ms after it connected)`,
    );
    // None of alice's callbacks waited for a batch that one of bob's hanging deliveries held: all arrived
    // before the sender gave up the first of them.
    expect(Math.max(...during.arrivals)).toBeLessThan(hanging.firstCloseAt);
  }, 120_000);

  it('parks an owner whose callbacks keep failing, and a delivered one un-parks it', async () => {
    flaky.status = 500;
    const failing = await Promise.all(
      [1, 2, 3].map(() => stack.submit({ model: 'a/b', input: {}, callbackUrl: flaky.url }, { key: 'key-carol' })),
    );
    await eventually(async () => (await stack.deps.callbackOwners.read('carol')).failures >= 3, 30_000);
    // A callback that comes while carol is parked is not tried: it goes back to the queue until the park ends.
    const late = await stack.submit({ model: 'a/b', input: {}, callbackUrl: flaky.url }, { key: 'key-carol' });
    await eventually(
      () =>
        stack.log.lines.some((l) => l.message === 'callback waits: its owner is parked' && l.extra.jobId === late.id),
      30_000,
    );
    const parked = await stack.deps.callbackOwners.read('carol');
    flaky.status = 204;
    await eventually(() => [...failing, late].every((job) => flaky.delivered(job.id)), 60_000);
    // Never tried while parked: its first attempt, after the park it met, was the delivered one.
    expect(flaky.requests.get(late.id)!.map((request) => request.status)).toEqual([204]);
    expect(flaky.delivered(late.id)).toBeGreaterThanOrEqual(parkedUntil(parked, 1)! - 50);
    const view = (await stack.request(`/jobs/${late.id}`, { key: 'key-carol' })).json;
    expect(view.callback.deliveries).toEqual([{ at: expect.any(String), attempt: 1, status: 204 }]);
    // Delivering un-parked carol: the next callback goes at once.
    expect((await stack.deps.callbackOwners.read('carol')).failures).toBe(0);
    const next = await stack.submit({ model: 'a/b', input: {}, callbackUrl: flaky.url }, { key: 'key-carol' });
    await eventually(() => flaky.delivered(next.id) !== undefined, 20_000);
    expect(stack.log.lines.some((l) => l.message.startsWith('callback waits') && l.extra.jobId === next.id)).toBe(
      false,
    );
  }, 120_000);
});

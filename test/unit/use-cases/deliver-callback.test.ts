import {
  MAX_ATTEMPTS,
  PARK_AFTER_FAILURES,
  retryDelaySeconds,
  SHARE_WAIT_SECONDS,
} from '../../../lambdas/core/callback-fairness';
import { callbackSecretFor } from '../../../lambdas/core/callback-signing';
import type { Job } from '../../../lambdas/core/job';
import { parseSigningSecrets, verifyWebhook } from '../../../lambdas/core/webhook-signature';
import { OwnerRounds } from '../../../lambdas/use-cases/callback-rounds';
import { type Callback, deliverCallback } from '../../../lambdas/use-cases/deliver-callback';
import { type FakeDependencies, fakeDependencies, TEST_SETTINGS } from '../../support/fake-ports';
import { OWNER, seedJob } from './builders';

const CALLBACK_URL = 'https://client.example/cb';
const BASE = TEST_SETTINGS.callbacks.retryBaseSeconds;

function callbackFor(deps: FakeDependencies, attempt = 1, fields: Partial<Job> = {}): Callback {
  const job = seedJob(deps, { status: 'succeeded', predictionId: 'pred_1', callbackUrl: CALLBACK_URL, ...fields });
  const record = { messageId: `m-${job.id}`, receiptHandle: `receipt-${job.id}` };
  return { record, job: job as Callback['job'], attempt };
}

/** One attempt; answers whether the message is done with, and what `answered` was told. */
async function attempt(deps: FakeDependencies, callback: Callback) {
  const told: boolean[] = [];
  const done = await deliverCallback(deps, callback, new AbortController().signal, (ok) => told.push(ok));
  return { done, told };
}

describe('deliverCallback', () => {
  it("posts the ended job, signed with the owner's secret, and logs the delivery", async () => {
    const deps = fakeDependencies();
    const callback = callbackFor(deps);

    await expect(attempt(deps, callback)).resolves.toEqual({ done: true, told: [true] });

    const [post] = deps.callbackEndpoint.posts;
    expect(post.url).toBe(CALLBACK_URL);
    expect(JSON.parse(post.body)).toMatchObject({
      type: 'job.ended',
      job: { id: callback.job.id, status: 'succeeded' },
    });
    const keys = parseSigningSecrets(callbackSecretFor(deps.secrets.callbackKey, OWNER));
    const verified = verifyWebhook({ headers: post.headers, rawBody: post.body, keys, now: deps.clock() });
    expect(verified).toMatchObject({ ok: true, id: `msg_${callback.job.id}` });
    expect((await deps.jobs.get(callback.job.id))?.callbackDeliveries).toEqual([
      { at: deps.clock().toISOString(), attempt: 1, status: 200 },
    ]);
    expect(deps.callbacks.retried).toEqual([]);
  });

  it('sends a failed attempt back to the queue after a backoff that doubles per attempt', async () => {
    const deps = fakeDependencies();
    const callback = callbackFor(deps, 3);
    deps.callbackEndpoint.answers.push({ status: 0, error: 'connection refused' });

    await expect(attempt(deps, callback)).resolves.toEqual({ done: false, told: [false] });

    expect(deps.callbacks.retried).toEqual([{ receiptHandle: callback.record.receiptHandle, seconds: BASE * 4 }]);
    expect((await deps.jobs.get(callback.job.id))?.callbackDeliveries).toEqual([
      { at: deps.clock().toISOString(), attempt: 3, status: 0, error: 'connection refused' },
    ]);
    expect(deps.callbackDeadLetters.sent).toEqual([]);
  });

  it('moves the callback to the DLQ when its last attempt fails', async () => {
    const deps = fakeDependencies();
    const callback = callbackFor(deps, MAX_ATTEMPTS);
    deps.callbackEndpoint.status = 503;
    await expect(attempt(deps, callback)).resolves.toMatchObject({ done: true });
    expect(deps.callbackDeadLetters.messages()).toEqual([{ jobId: callback.job.id }]);
    expect(deps.callbacks.retried).toEqual([]);
  });

  it('retries the last attempt when the DLQ cannot take it', async () => {
    const deps = fakeDependencies();
    const callback = callbackFor(deps, MAX_ATTEMPTS);
    deps.callbackEndpoint.status = 503;
    deps.callbackDeadLetters.failing = new Error('SQS is down');
    await expect(attempt(deps, callback)).resolves.toMatchObject({ done: false });
    expect(deps.callbacks.retried).toEqual([
      { receiptHandle: callback.record.receiptHandle, seconds: retryDelaySeconds(BASE, MAX_ATTEMPTS) },
    ]);
  });
});

describe('OwnerRounds', () => {
  const rounds = (deps: FakeDependencies, callbacks: Callback[]) =>
    new OwnerRounds(deps, 'batch-1', Promise.resolve(callbacks), new AbortController().signal);

  it("delivers an owner's callbacks under a lease it gives back, and resets its failures", async () => {
    const deps = fakeDependencies();
    deps.callbackOwners.states.set(OWNER, { failures: 2, lastFailureAt: 0, leases: {}, version: 4 });
    const callbacks = [callbackFor(deps), callbackFor(deps)];
    const batch = rounds(deps, callbacks);

    await expect(Promise.all(callbacks.map((callback) => batch.outcome(callback)))).resolves.toEqual([true, true]);
    expect(deps.callbackEndpoint.posts).toHaveLength(2);
    expect(await deps.callbackOwners.read(OWNER)).toMatchObject({ failures: 0, leases: {} });
  });

  it('counts a round in which nothing was delivered', async () => {
    const deps = fakeDependencies();
    deps.callbackEndpoint.status = 500;
    const callback = callbackFor(deps);
    await expect(rounds(deps, [callback]).outcome(callback)).resolves.toBe(false);
    expect(await deps.callbackOwners.read(OWNER)).toMatchObject({
      failures: 1,
      lastFailureAt: deps.clock().getTime(),
      leases: {},
    });
  });

  it("sends a parked owner's callbacks back to wait, carrying their attempts, without posting", async () => {
    const deps = fakeDependencies();
    const now = deps.clock().getTime();
    deps.callbackOwners.states.set(OWNER, {
      failures: PARK_AFTER_FAILURES,
      lastFailureAt: now,
      leases: {},
      version: 1,
    });
    const callback = callbackFor(deps, 4);

    await expect(rounds(deps, [callback]).outcome(callback)).resolves.toBe(true);

    expect(deps.callbackEndpoint.posts).toEqual([]);
    expect(deps.callbacks.sent).toEqual([
      { message: { jobId: callback.job.id, attempts: 3 }, delaySeconds: retryDelaySeconds(BASE, PARK_AFTER_FAILURES) },
    ]);
  });

  it("lets callbacks wait while other batches hold the owner's share", async () => {
    const deps = fakeDependencies();
    const started = deps.clock().getTime() - 5_000; // a slow endpoint: not worth waiting for
    deps.callbackOwners.states.set(OWNER, {
      failures: 0,
      lastFailureAt: 0,
      leases: { a: started, b: started },
      version: 2,
    });
    const callback = callbackFor(deps);

    await expect(rounds(deps, [callback]).outcome(callback)).resolves.toBe(true);

    expect(deps.callbackEndpoint.posts).toEqual([]);
    expect(deps.callbacks.sent).toEqual([{ message: { jobId: callback.job.id }, delaySeconds: SHARE_WAIT_SECONDS }]);
  });
});

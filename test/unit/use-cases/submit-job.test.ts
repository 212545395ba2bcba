import { Conflict, InvalidRequest, LimitExceeded, ReplicateFailure, Unavailable } from '../../../lambdas/core/errors';
import { idempotentJobId } from '../../../lambdas/core/ids';
import type { JobSpec } from '../../../lambdas/core/job';
import { METRIC } from '../../../lambdas/core/metrics';
import type { CreatePredictionRequest } from '../../../lambdas/core/ports';
import { jobIdFromWebhookUrl } from '../../../lambdas/core/prediction';
import { cancelJob } from '../../../lambdas/use-cases/cancel-job';
import { type SubmitJobCommand, submitJob } from '../../../lambdas/use-cases/submit-job';
import {
  FakeAdmission,
  type FakeDependencies,
  FakeOwnerQuota,
  fakeDependencies,
  TEST_SETTINGS,
} from '../../support/fake-ports';
import { OTHER_OWNER, OWNER } from './builders';

const SPEC: JobSpec = {
  model: 'acme/painter',
  input: { prompt: 'a lighthouse' },
  webhookEvents: ['start', 'completed'],
  callbackUrl: 'https://client.example/done',
};
const command = (fields: Partial<SubmitJobCommand> = {}): SubmitJobCommand => ({
  owner: OWNER,
  spec: SPEC,
  apiBaseUrl: 'https://api.test',
  ...fields,
});

/** The one job in the table. */
function onlyJob(deps: FakeDependencies) {
  expect(deps.jobs.rows.size).toBe(1);
  return [...deps.jobs.rows.values()][0].job;
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error,
  );

describe('submitJob', () => {
  it('records the job, creates its prediction with a webhook naming it, and answers the queued job', async () => {
    const deps = fakeDependencies();
    const view = await submitJob(deps, command());

    expect(view).toMatchObject({ status: 'queued', model: 'acme/painter', predictionId: 'pred_1', error: null });
    const job = onlyJob(deps);
    expect(job).toMatchObject({ id: view.id, owner: OWNER, predictionId: 'pred_1', status: 'queued', rank: 0 });
    const [request] = deps.replicate.callsOf('createPrediction') as CreatePredictionRequest[];
    expect(request).toMatchObject({ model: 'acme/painter', input: SPEC.input, webhookEvents: ['start', 'completed'] });
    expect(request.webhook).toBe(`https://api.test/webhooks/replicate?job=${view.id}`);
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 1, accepted: 1 });
    expect(deps.metrics.total(METRIC.jobsSubmitted)).toBe(1);
  });

  it('points the webhook at the public URL setting when there is one', async () => {
    const deps = fakeDependencies({ settings: { ...TEST_SETTINGS, publicUrl: 'https://jobs.example' } });
    const view = await submitJob(deps, command());
    const [request] = deps.replicate.callsOf('createPrediction') as CreatePredictionRequest[];
    expect(request.webhook).toBe(`https://jobs.example/webhooks/replicate?job=${view.id}`);
  });

  it('refuses a malformed Idempotency-Key before anything is written', async () => {
    const deps = fakeDependencies();
    const error = await refusal(submitJob(deps, command({ idempotencyKey: 'has space' })));
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error).toMatchObject({ code: 'invalid_idempotency_key' });
    expect(deps.jobs.rows.size).toBe(0);
  });

  it('answers a replayed Idempotency-Key with the same job, without a second prediction or slot', async () => {
    const deps = fakeDependencies();
    const first = await submitJob(deps, command({ idempotencyKey: 'key-1' }));
    deps.time.advance(5);
    const again = await submitJob(deps, command({ idempotencyKey: 'key-1' }));

    expect(again.id).toBe(first.id);
    expect(first.id).toBe(idempotentJobId(OWNER, 'key-1'));
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 1, accepted: 1 });
  });

  it('gives back the slot and the day of a concurrent retry that lost the conditional put', async () => {
    const deps = fakeDependencies();
    const acquire = jest.spyOn(deps.quota, 'acquire');
    const [a, b] = await Promise.all([
      submitJob(deps, command({ idempotencyKey: 'key-1' })),
      submitJob(deps, command({ idempotencyKey: 'key-1' })),
    ]);
    expect(a.id).toBe(b.id);
    expect(acquire).toHaveBeenCalledTimes(2); // both passed the first read: one lost the put
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 1, accepted: 1 });
  });

  it('refuses a key reused with another body as a Conflict', async () => {
    const deps = fakeDependencies();
    await submitJob(deps, command({ idempotencyKey: 'key-1' }));
    const otherBody = { ...SPEC, input: { prompt: 'a harbour' } };
    const error = await refusal(submitJob(deps, command({ idempotencyKey: 'key-1', spec: otherBody })));
    expect(error).toBeInstanceOf(Conflict);
    expect(error).toMatchObject({ code: 'idempotency_key_reused' });
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
  });

  it("refuses past the owner's limit with LimitExceeded and when to retry, calling nobody", async () => {
    const deps = fakeDependencies({
      quota: new FakeOwnerQuota({ maxInFlight: 1, maxPerDay: 100, maxRefusalsPerMinute: 5 }),
    });
    await submitJob(deps, command());
    const error = await refusal(submitJob(deps, command()));

    expect(error).toBeInstanceOf(LimitExceeded);
    expect(error).toMatchObject({
      code: 'owner_limit_exceeded',
      details: { limit: 'in_flight' },
      retryAfterSeconds: 10,
    });
    expect(deps.jobs.rows.size).toBe(1);
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
    // Another owner has its own counters.
    await expect(submitJob(deps, command({ owner: OTHER_OWNER }))).resolves.toMatchObject({ status: 'queued' });
  });

  it('tells how long until midnight when the daily limit is reached', async () => {
    const deps = fakeDependencies({
      quota: new FakeOwnerQuota({ maxInFlight: 10, maxPerDay: 1, maxRefusalsPerMinute: 5 }),
    });
    await submitJob(deps, command());
    const error = await refusal(submitJob(deps, command()));
    // The fake clock reads 12:00 UTC.
    expect(error).toMatchObject({
      code: 'owner_limit_exceeded',
      details: { limit: 'daily' },
      retryAfterSeconds: 12 * 3600,
    });
  });

  describe('when Replicate refuses the input', () => {
    const rejected = () => new ReplicateFailure('rejected', 'Replicate refused the input', 422, { prompt: 'too long' });

    it('fails the job, keeps the day counted, counts the refusal, and queues no callback', async () => {
      const deps = fakeDependencies();
      deps.replicate.next('createPrediction', rejected());
      const error = await refusal(submitJob(deps, command()));

      expect(error).toBeInstanceOf(InvalidRequest);
      const job = onlyJob(deps);
      expect(error).toMatchObject({
        code: 'replicate_rejected_input',
        details: { jobId: job.id, replicate: { prompt: 'too long' } },
      });
      expect(job).toMatchObject({ status: 'failed', error: { code: 'submit_failed' } });
      expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 0, accepted: 1, refusals: 1 });
      expect(deps.callbacks.sent).toEqual([]);
    });

    it('treats an unknown model (404) the same way', async () => {
      const deps = fakeDependencies();
      deps.replicate.next('createPrediction', new ReplicateFailure('not_found', 'No such model', 404));
      await expect(submitJob(deps, command())).rejects.toMatchObject({ code: 'replicate_rejected_input' });
      expect(deps.quota.of(OWNER).refusals).toBe(1);
    });

    it('stops calling Replicate once the refusals of the minute reach the limit', async () => {
      const deps = fakeDependencies({
        quota: new FakeOwnerQuota({ maxInFlight: 10, maxPerDay: 100, maxRefusalsPerMinute: 2 }),
      });
      deps.replicate.next('createPrediction', rejected(), rejected());
      await expect(submitJob(deps, command())).rejects.toMatchObject({ code: 'replicate_rejected_input' });
      await expect(submitJob(deps, command())).rejects.toMatchObject({ code: 'replicate_rejected_input' });
      await expect(submitJob(deps, command())).rejects.toMatchObject({
        code: 'owner_limit_exceeded',
        details: { limit: 'refusals' },
      });
      expect(deps.replicate.callsOf('createPrediction')).toHaveLength(2);
    });
  });

  it('accepts a job Replicate throttles: it waits in its place, every instance pauses for Retry-After', async () => {
    const deps = fakeDependencies();
    deps.replicate.next('createPrediction', new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 7));
    const view = await submitJob(deps, command({ idempotencyKey: 'key-1' }));

    expect(view).toMatchObject({ status: 'queued', predictionId: null, error: null, waitingSince: view.createdAt });
    expect(onlyJob(deps)).toMatchObject({ status: 'queued', waitingSince: view.createdAt });
    expect(deps.admission.current.pausedUntil).toBe(new Date(Date.parse(view.createdAt) + 7000).toISOString());
    expect(deps.admission.current.backlogSince).toBeDefined();
    expect(deps.admissionKicks.messages()).toEqual([{ reason: 'backlog' }]);
    // It keeps its slot and its place in the day's count: it is accepted, only later.
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 1, accepted: 1 });
    // The same key answers the same waiting job.
    expect(await submitJob(deps, command({ idempotencyKey: 'key-1' }))).toMatchObject({ id: view.id });
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
  });

  it('pauses every create for at most a minute, whatever Retry-After says', async () => {
    const deps = fakeDependencies();
    deps.replicate.next('createPrediction', new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 86_400));
    const view = await submitJob(deps, command());
    expect(deps.admission.current.pausedUntil).toBe(new Date(Date.parse(view.createdAt) + 60_000).toISOString());
  });

  it('creates at once while the rate allows, and queues the job without calling Replicate once it is spent', async () => {
    const deps = fakeDependencies();
    deps.admission.capacity = 1;
    const first = await submitJob(deps, command());
    const second = await submitJob(deps, command());

    expect(first).toMatchObject({ predictionId: 'pred_1', waitingSince: null });
    expect(second).toMatchObject({ status: 'queued', predictionId: null, waitingSince: second.createdAt });
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
    expect(deps.admissionKicks.messages()).toEqual([{ reason: 'backlog' }]);
  });

  it('lets a job wait for the admitter rather than sleep for a place over a second away (found by an attack)', async () => {
    const deps = fakeDependencies({ admission: new FakeAdmission(7, 60_000) }); // 7 a minute: one every 8.6 s
    await submitJob(deps, command());
    const started = Date.now();
    const second = await submitJob(deps, command());
    expect(Date.now() - started).toBeLessThan(500);
    expect(second).toMatchObject({ predictionId: null, waitingSince: second.createdAt });
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(1);
  });

  it('queues behind waiting jobs (a backlog, a pause) without taking from the rate', async () => {
    const deps = fakeDependencies();
    await deps.admission.startBacklog(deps.clock());
    const behindBacklog = await submitJob(deps, command());
    deps.admission.current = { pausedUntil: new Date(deps.clock().getTime() + 5000).toISOString() };
    const behindPause = await submitJob(deps, command());

    expect(behindBacklog.waitingSince).toBe(behindBacklog.createdAt);
    expect(behindPause.waitingSince).toBe(behindPause.createdAt);
    expect(deps.replicate.callsOf('createPrediction')).toHaveLength(0);
    expect(deps.admission.taken.size).toBe(0);
    // The backlog was known: no kick for it. The pause had none: the job started one.
    expect(deps.admissionKicks.messages()).toEqual([{ reason: 'backlog' }]);
  });

  it('cancels a waiting job at once: nothing at Replicate to cancel, and its slot comes back', async () => {
    const deps = fakeDependencies();
    deps.admission.capacity = 0;
    const view = await submitJob(deps, command());
    const canceled = await cancelJob(deps, OWNER, view.id);

    expect(canceled).toMatchObject({ status: 'canceled', waitingSince: null });
    expect(deps.replicate.callsOf('cancelPrediction')).toHaveLength(0);
    expect(await deps.jobs.listWaiting()).toEqual([]);
    expect(deps.quota.of(OWNER)).toMatchObject({ inFlight: 0 });
  });

  it('answers Unavailable when Replicate refuses our token', async () => {
    const deps = fakeDependencies();
    deps.replicate.next('createPrediction', new ReplicateFailure('auth_failed', 'Bad token', 401));
    const error = await refusal(submitJob(deps, command()));
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ code: 'replicate_auth_failed' });
  });

  it.each([
    ['a 5xx', new ReplicateFailure('unavailable', 'Replicate answered 502', 502)],
    ['a network error', new TypeError('fetch failed')],
  ])('leaves the job queued with its slot after %s: the prediction may exist', async (_, failure) => {
    const deps = fakeDependencies();
    deps.replicate.next('createPrediction', failure);
    const error = await refusal(submitJob(deps, command()));

    const job = onlyJob(deps);
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ code: 'replicate_unavailable', details: { jobId: job.id, outcome: 'unknown' } });
    expect(job).toMatchObject({ status: 'queued', submissionUnknown: true });
    expect(job.predictionId).toBeUndefined();
    expect(deps.quota.of(OWNER).inFlight).toBe(1);
  });

  it('cancels the prediction of a job canceled while it was being created', async () => {
    const deps = fakeDependencies();
    deps.replicate.next('createPrediction', async (request) => {
      const jobId = jobIdFromWebhookUrl((request as CreatePredictionRequest).webhook)!;
      await cancelJob(deps, OWNER, jobId);
      return { id: 'pred_orphan' };
    });
    const view = await submitJob(deps, command());

    expect(view).toMatchObject({ status: 'canceled', predictionId: 'pred_orphan' });
    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['pred_orphan']);
  });
});

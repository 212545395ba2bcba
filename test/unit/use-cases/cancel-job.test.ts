import { Conflict, LimitExceeded, NotFound, ReplicateFailure, Unavailable } from '../../../lambdas/core/errors';
import { STATUS_RANK } from '../../../lambdas/core/job';
import { cancelJob } from '../../../lambdas/use-cases/cancel-job';
import { fakeDependencies } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER, predictionOf, seedJob } from './builders';

describe('cancelJob', () => {
  it('cancels the prediction, then the job: slot given back, callback queued', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, {
      status: 'processing',
      predictionId: 'pred_1',
      callbackUrl: 'https://client.example/cb',
    });
    deps.replicate.predictions.set('pred_1', predictionOf(job));
    deps.quota.of(OWNER).inFlight = 1;
    deps.time.advance(30);

    const view = await cancelJob(deps, OWNER, job.id);

    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['pred_1']);
    expect(view).toMatchObject({ status: 'canceled', error: { code: 'prediction_canceled' } });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'canceled', updatedAt: deps.clock().toISOString() });
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
  });

  it('cancels a job that has no prediction yet without calling Replicate', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    await expect(cancelJob(deps, OWNER, job.id)).resolves.toMatchObject({ status: 'canceled' });
    expect(deps.replicate.calls).toEqual([]);
  });

  it("answers NotFound for another owner's job and for a malformed id", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'processing', predictionId: 'pred_1' });
    await expect(cancelJob(deps, OTHER_OWNER, job.id)).rejects.toBeInstanceOf(NotFound);
    await expect(cancelJob(deps, OWNER, 'job_nope')).rejects.toBeInstanceOf(NotFound);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
    expect(deps.replicate.calls).toEqual([]);
  });

  it('answers a canceled job again without asking Replicate (idempotent)', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'canceled', predictionId: 'pred_1' });
    await expect(cancelJob(deps, OWNER, job.id)).resolves.toMatchObject({ id: job.id, status: 'canceled' });
    expect(deps.replicate.calls).toEqual([]);
  });

  it.each(['succeeded', 'failed'] as const)(
    'refuses a job that already %s: Conflict job_already_finished',
    async (status) => {
      const deps = fakeDependencies();
      const job = seedJob(deps, { status, predictionId: 'pred_1' });
      const error = await cancelJob(deps, OWNER, job.id).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Conflict);
      expect(error).toMatchObject({ code: 'job_already_finished', details: { status } });
      expect(deps.replicate.calls).toEqual([]);
    },
  );

  it('refuses while the submission is unknown, saying when the job fails by itself', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { submissionUnknown: true });
    deps.time.advance(100);
    const error = await cancelJob(deps, OWNER, job.id).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Conflict);
    expect(error).toMatchObject({ code: 'submission_pending', retryAfterSeconds: 200 });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'queued' });
  });

  it('counts that wait from when the admitter took a job that had waited, not from its creation (found by an attack)', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { submissionUnknown: true });
    deps.time.advance(290); // waited for capacity
    await deps.jobs.markWaiting(job.id, job.createdAt);
    await deps.jobs.claimWaiting(job.id, deps.clock().toISOString());
    await deps.jobs.markSubmissionUnknown(job.id);
    deps.time.advance(100);
    const error = await cancelJob(deps, OWNER, job.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'submission_pending', retryAfterSeconds: 200 });
  });

  it('still cancels the job when Replicate no longer knows the prediction', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'starting', predictionId: 'pred_gone' });
    deps.replicate.next('cancelPrediction', new ReplicateFailure('not_found', 'No such prediction', 404));
    await expect(cancelJob(deps, OWNER, job.id)).resolves.toMatchObject({ status: 'canceled' });
  });

  it.each([
    ['rate limited', new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 3), LimitExceeded],
    ['unavailable', new ReplicateFailure('unavailable', 'Replicate answered 503', 503), Unavailable],
  ])('leaves the job running when canceling at Replicate is %s', async (_, failure, refusal) => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'processing', predictionId: 'pred_1' });
    deps.replicate.next('cancelPrediction', failure);
    await expect(cancelJob(deps, OWNER, job.id)).rejects.toBeInstanceOf(refusal);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'processing' });
  });

  it('cancels again from the fresh job when another writer moved it meanwhile', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'starting', predictionId: 'pred_1' });
    deps.replicate.predictions.set('pred_1', predictionOf(job));
    deps.replicate.next('cancelPrediction', async () => {
      // A consumer whose clock runs ahead writes `processing`: our cancel, stamped earlier, loses the write.
      const ahead = new Date(deps.clock().getTime() + 5_000).toISOString();
      const processing = { status: 'processing', rank: STATUS_RANK.processing, predictionId: 'pred_1' } as const;
      await deps.jobs.advance(job.id, { ...processing, updatedAt: ahead });
      return { status: 'canceled' };
    });
    await expect(cancelJob(deps, OWNER, job.id)).resolves.toMatchObject({ status: 'canceled' });
    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['pred_1', 'pred_1']);
  });

  it('answers what the job became when it ended while being canceled', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'processing', predictionId: 'pred_1' });
    deps.replicate.next('cancelPrediction', async () => {
      // The completed webhook is applied between Replicate's answer and the cancel write.
      const succeeded = { status: 'succeeded', rank: STATUS_RANK.succeeded, predictionId: 'pred_1' } as const;
      await deps.jobs.advance(job.id, { ...succeeded, updatedAt: deps.clock().toISOString() });
      return { status: 'canceled' };
    });
    const error = await cancelJob(deps, OWNER, job.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'job_already_finished', details: { status: 'succeeded' } });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'succeeded' });
  });
});

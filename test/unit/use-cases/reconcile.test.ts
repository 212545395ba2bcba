import { ReplicateFailure } from '../../../lambdas/core/errors';
import type { Job } from '../../../lambdas/core/job';
import { SUBMIT_GRACE_SECONDS } from '../../../lambdas/core/limits';
import { METRIC } from '../../../lambdas/core/metrics';
import { reconcile } from '../../../lambdas/use-cases/reconcile';
import { type FakeDependencies, fakeDependencies, TEST_SETTINGS } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER, predictionOf, seedJob } from './builders';

/** A job whose prediction Replicate knows, in the same status unless told otherwise. */
function jobAtReplicate(deps: FakeDependencies, fields: Partial<Job> = {}, replicateStatus?: string): Job {
  const predictionId = `pred_${deps.jobs.rows.size + 1}`;
  const job = seedJob(deps, { status: 'processing', predictionId, ...fields });
  deps.replicate.predictions.set(predictionId, predictionOf(job, { status: replicateStatus ?? job.status }));
  return job;
}

const checkAt = (deps: FakeDependencies, job: Job) => deps.jobs.row(job.id)?.checkAt;

describe('reconcile', () => {
  it('queues the progress a quiet job made at Replicate, as a poll, and sends the job to the back', async () => {
    const deps = fakeDependencies();
    const job = jobAtReplicate(deps, { status: 'starting' }, 'succeeded');
    const now = deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1).toISOString();

    const report = await reconcile(deps);

    expect(report).toEqual({ examined: 1, polled: 1, advanced: 1, timedOut: 0, abandoned: 0 });
    const [message] = deps.queue.messages();
    expect(message).toMatchObject({ source: 'poll', jobId: job.id, receivedAt: now });
    expect(JSON.parse(message.body!)).toMatchObject({ id: job.predictionId, status: 'succeeded' });
    expect(checkAt(deps, job)).toBe(now);
    expect(deps.metrics.total(METRIC.reconciled)).toBe(1);
  });

  it('queues nothing when the prediction has not moved on', async () => {
    const deps = fakeDependencies();
    const job = jobAtReplicate(deps);
    const now = deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1).toISOString();
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 1, polled: 1, advanced: 0 });
    expect(deps.queue.sent).toEqual([]);
    expect(checkAt(deps, job)).toBe(now);
  });

  it('leaves jobs alone that were updated recently', async () => {
    const deps = fakeDependencies();
    jobAtReplicate(deps, {}, 'succeeded');
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds - 1);
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 0 });
    expect(deps.replicate.calls).toEqual([]);
  });

  it('fails a job past its deadline with timeout, canceling its prediction', async () => {
    const deps = fakeDependencies();
    deps.quota.of(OWNER).inFlight = 1;
    const job = jobAtReplicate(deps, { callbackUrl: 'https://client.example/cb' });
    deps.time.advance(TEST_SETTINGS.jobTimeoutSeconds + 1);

    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 1, timedOut: 1, polled: 0 });

    expect(deps.replicate.callsOf('cancelPrediction')).toEqual([job.predictionId]);
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    expect(deps.callbacks.messages()).toEqual([{ jobId: job.id }]);
    expect(deps.quota.of(OWNER).inFlight).toBe(0);
    expect(deps.metrics.total(METRIC.jobsTimedOut)).toBe(1);
  });

  it("keeps to a job's own timeout, and times it out even when canceling the prediction fails", async () => {
    const deps = fakeDependencies();
    const job = jobAtReplicate(deps, { timeoutSeconds: 600 });
    deps.replicate.next('cancelPrediction', new ReplicateFailure('unavailable', 'Replicate answered 503', 503));
    deps.time.advance(601);
    await expect(reconcile(deps)).resolves.toMatchObject({ timedOut: 1 });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('fails a submission that never got a prediction once the grace period is over, retryable', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { submissionUnknown: true });
    deps.time.advance(SUBMIT_GRACE_SECONDS - 10);
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 1, abandoned: 0 });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'queued' });

    // Examined, it went to the back: it is quiet again after reconcileAfterSeconds.
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds - 1);
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 0 });
    deps.time.advance(2);
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 1, abandoned: 1 });
    expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code: 'submit_failed' } });
    expect(deps.jobs.row(job.id)?.submitRetryable).toBe(true);
    expect(deps.replicate.calls).toEqual([]);
  });

  it('stops starting examinations once Replicate rate limits it; the throttled job stays in front', async () => {
    const deps = fakeDependencies({ settings: { ...TEST_SETTINGS, reconcileBatchSize: 40 } });
    const jobs = Array.from({ length: 40 }, () => {
      deps.time.advance(1);
      return jobAtReplicate(deps);
    });
    deps.replicate.next('getPrediction', new ReplicateFailure('rate_limited', 'Slow down', 429));
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);

    const report = await reconcile(deps);

    // The examinations already under way (16 at once) finish; none starts after the 429.
    expect(deps.replicate.callsOf('getPrediction').length).toBeLessThan(40);
    expect(report.polled).toBe(deps.replicate.callsOf('getPrediction').length - 1);
    expect(checkAt(deps, jobs[0])).toBe(jobs[0].updatedAt);
    expect(checkAt(deps, jobs[39])).toBe(jobs[39].updatedAt);
  });

  it('shares a run fairly between owners, whoever has the most quiet jobs', async () => {
    const deps = fakeDependencies();
    const many = Array.from({ length: 30 }, () => {
      deps.time.advance(1);
      return jobAtReplicate(deps);
    });
    const few = [jobAtReplicate(deps, { owner: OTHER_OWNER }), jobAtReplicate(deps, { owner: OTHER_OWNER })];
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);

    await reconcile(deps);

    const polled = deps.replicate.callsOf('getPrediction');
    expect(polled).toHaveLength(TEST_SETTINGS.reconcileBatchSize);
    expect(polled).toEqual(expect.arrayContaining(few.map((job) => job.predictionId)));
    // Within an owner, the longest quiet go first.
    expect(polled).toEqual(expect.arrayContaining(many.slice(0, 8).map((job) => job.predictionId)));
  });

  it('examines a backlog in full over successive runs', async () => {
    const deps = fakeDependencies();
    Array.from({ length: 25 }, () => jobAtReplicate(deps));
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);
    for (let run = 0; run < 3; run++) {
      await reconcile(deps);
      deps.time.advance(1);
    }
    expect(new Set(deps.replicate.callsOf('getPrediction')).size).toBe(25);
  });

  it('moves on past a job whose poll fails', async () => {
    const deps = fakeDependencies();
    const failing = jobAtReplicate(deps);
    const job = jobAtReplicate(deps, {}, 'succeeded');
    deps.replicate.next('getPrediction', new ReplicateFailure('unavailable', 'Replicate answered 500', 500));
    deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);
    await expect(reconcile(deps)).resolves.toMatchObject({ examined: 2, advanced: 1 });
    expect(deps.queue.messages()).toEqual([expect.objectContaining({ jobId: job.id })]);
    expect(checkAt(deps, failing)).toBe(deps.clock().toISOString());
  });

  describe('jobs waiting for capacity (admission)', () => {
    it('leaves a waiting job to the admitter however long it waits within its timeout, and wakes the admitter', async () => {
      const deps = fakeDependencies();
      const since = deps.clock().toISOString();
      const job = seedJob(deps, { waitingSince: since });
      deps.time.advance(SUBMIT_GRACE_SECONDS * 2);

      const report = await reconcile(deps);

      expect(report).toMatchObject({ examined: 1, polled: 0, abandoned: 0, timedOut: 0 });
      expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'queued', waitingSince: since });
      expect(deps.admissionKicks.messages()).toEqual([{ reason: 'reconciler' }]);
      expect(deps.metrics.total(METRIC.admissionBacklog)).toBe(1);
    });

    it('times a waiting job out at its timeout, as any other', async () => {
      const deps = fakeDependencies();
      const job = seedJob(deps, { waitingSince: deps.clock().toISOString(), timeoutSeconds: 60 });
      deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);

      await expect(reconcile(deps)).resolves.toMatchObject({ timedOut: 1 });
      expect(await deps.jobs.get(job.id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
      expect(await deps.jobs.listWaiting()).toEqual([]);
    });

    it('gives a job the admitter took out of the line its grace from then, not from its creation', async () => {
      const deps = fakeDependencies();
      const job = seedJob(deps);
      deps.time.advance(SUBMIT_GRACE_SECONDS * 2);
      await deps.jobs.markWaiting(job.id, job.createdAt);
      await deps.jobs.claimWaiting(job.id, deps.clock().toISOString()); // its create is in flight
      deps.time.advance(TEST_SETTINGS.reconcileAfterSeconds + 1);

      await expect(reconcile(deps)).resolves.toMatchObject({ examined: 1, abandoned: 0 });
      deps.time.advance(SUBMIT_GRACE_SECONDS);
      await expect(reconcile(deps)).resolves.toMatchObject({ abandoned: 1 });
    });

    it('sends no kick and reports an empty line when nothing waits', async () => {
      const deps = fakeDependencies();
      await reconcile(deps);
      expect(deps.admissionKicks.sent).toEqual([]);
      expect(deps.metrics.counts).toContainEqual({ name: METRIC.admissionBacklog, value: 0 });
    });
  });
});

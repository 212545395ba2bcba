/**
 * The fake job repository's conditions, pinned: the use-case tests are only as true as the fake is to the
 * DynamoDB adapter (lambdas/adapters/dynamo-job-repository.ts, whose named conditions each case cites).
 */
import { type JobStatus, STATUS_RANK } from '../../../lambdas/core/job';
import type { JobPatch } from '../../../lambdas/core/state-machine';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { aJob, OTHER_OWNER, OWNER, seedJob } from './builders';

const patch = (deps: FakeDependencies, status: JobStatus, fields: Partial<JobPatch> = {}): JobPatch => ({
  status,
  rank: STATUS_RANK[status],
  updatedAt: deps.clock().toISOString(),
  predictionId: 'pred_1',
  ...fields,
});
const ending = (deps: FakeDependencies) =>
  ({
    status: 'canceled',
    error: { code: 'prediction_canceled', message: 'x' },
    updatedAt: deps.clock().toISOString(),
  }) as const;

describe('FakeJobRepository', () => {
  it('creates a job once (jobIsNew), again only over a retryable failed submission of the same request', async () => {
    const deps = fakeDependencies();
    const { jobs } = deps;
    const job = aJob(deps);
    await expect(jobs.create(job)).resolves.toEqual({ created: true });
    await expect(jobs.create({ ...job, input: {} })).resolves.toMatchObject({ created: false, existing: job });

    const failed = {
      status: 'failed',
      error: { code: 'submit_failed', message: 'x' },
      updatedAt: job.updatedAt,
    } as const;
    await jobs.finish(job.id, failed, { retryableSubmission: true });
    await expect(jobs.create({ ...job, requestHash: 'other' })).resolves.toMatchObject({ created: false });
    await expect(jobs.create(job)).resolves.toEqual({ created: true });
  });

  it('only raises the rank (isNewer), and a terminal status is final', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'processing', predictionId: 'pred_1' });
    await expect(deps.jobs.advance(job.id, patch(deps, 'processing'))).resolves.toEqual({ applied: false });
    await expect(deps.jobs.advance(job.id, patch(deps, 'starting'))).resolves.toEqual({ applied: false });
    await expect(deps.jobs.advance(job.id, patch(deps, 'failed'))).resolves.toMatchObject({ applied: true });
    await expect(deps.jobs.advance(job.id, patch(deps, 'succeeded'))).resolves.toEqual({ applied: false });
    await expect(deps.jobs.finish(job.id, ending(deps))).resolves.toEqual({ applied: false });
    expect(deps.jobs.row(job.id)?.checkAt).toBeUndefined();
  });

  it("never lets updatedAt go back (notOlder), nor another prediction's event in (samePrediction)", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'starting', predictionId: 'pred_1' });
    const earlier = new Date(deps.clock().getTime() - 1).toISOString();
    await expect(deps.jobs.advance(job.id, patch(deps, 'processing', { updatedAt: earlier }))).resolves.toEqual({
      applied: false,
    });
    await expect(deps.jobs.advance(job.id, patch(deps, 'processing', { predictionId: 'pred_2' }))).resolves.toEqual({
      applied: false,
    });
    await expect(deps.jobs.finish(job.id, { ...ending(deps), updatedAt: earlier })).resolves.toEqual({
      applied: false,
    });
    await expect(deps.jobs.finish(job.id, ending(deps), { unsubmittedOnly: true })).resolves.toEqual({
      applied: false,
    });
  });

  it('records a prediction id only while the job has none or the same one', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    await expect(deps.jobs.recordPrediction(job.id, 'pred_1')).resolves.toMatchObject({ predictionId: 'pred_1' });
    await expect(deps.jobs.recordPrediction(job.id, 'pred_2')).resolves.toMatchObject({ predictionId: 'pred_1' });
    await deps.jobs.markSubmissionUnknown(job.id);
    expect((await deps.jobs.get(job.id))?.submissionUnknown).toBeUndefined();
  });

  it('lends the transfer lease to one holder until it expires; only the holder records copies', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'processing', predictionId: 'pred_1' });
    const output = { index: 0, key: 'k', contentType: 'image/png', size: 1 };
    await expect(
      deps.jobs.acquireTransferLease(job.id, 'pred_1', 'a', '2026-01-01T00:00:00Z', '2026-01-01T00:02:00Z'),
    ).resolves.toMatchObject({ job: { id: job.id }, lease: { copied: [] } });
    await expect(
      deps.jobs.acquireTransferLease(job.id, 'pred_1', 'b', '2026-01-01T00:01:00Z', '2026-01-01T00:03:00Z'),
    ).resolves.toBe(undefined);
    await expect(deps.jobs.recordCopiedOutput(job.id, 'b', output)).resolves.toBe(false);
    await expect(deps.jobs.recordCopiedOutput(job.id, 'a', output)).resolves.toBe(true);
    await expect(
      deps.jobs.acquireTransferLease(job.id, 'pred_1', 'b', '2026-01-01T00:02:01Z', '2026-01-01T00:04:00Z'),
    ).resolves.toMatchObject({ lease: { copied: [output] } });
    await expect(deps.jobs.recordCopiedOutput(job.id, 'a', output)).resolves.toBe(false);
    await deps.jobs.finish(job.id, ending(deps));
    await expect(deps.jobs.recordCopiedOutput(job.id, 'b', output)).resolves.toBe(false);
    await expect(
      deps.jobs.acquireTransferLease(job.id, 'pred_1', 'b', '2026-01-01T00:02:02Z', '2026-01-01T00:05:00Z'),
    ).resolves.toBe(undefined);
  });

  it('lists quiet unfinished jobs by checkAt; markExamined moves one to the back, forwards only', async () => {
    const deps = fakeDependencies();
    const first = seedJob(deps);
    deps.time.advance(1);
    const second = seedJob(deps);
    seedJob(deps, { status: 'succeeded' });
    const later = deps.time.advance(10).toISOString();
    expect(await deps.jobs.listQuiet(later, 10)).toEqual([
      { id: first.id, owner: OWNER },
      { id: second.id, owner: OWNER },
    ]);
    await deps.jobs.markExamined(first.id, later);
    await deps.jobs.markExamined(second.id, first.createdAt);
    expect((await deps.jobs.listQuiet(deps.time.advance(1).toISOString(), 10)).map((job) => job.id)).toEqual([
      second.id,
      first.id,
    ]);
  });

  it('keeps a waiting line: marked only while unsubmitted and unfinished, claimed once, left on any end', async () => {
    const deps = fakeDependencies();
    const { jobs } = deps;
    const [first, second, submitted] = [seedJob(deps), seedJob(deps, { owner: OTHER_OWNER }), seedJob(deps)];
    await jobs.recordPrediction(submitted.id, 'pred_1');
    expect(await jobs.markWaiting(submitted.id, first.createdAt)).toBe(false); // notSubmitted
    expect(await jobs.markWaiting(second.id, '2026-03-01T12:00:02.000Z')).toBe(true);
    expect(await jobs.markWaiting(first.id, '2026-03-01T12:00:01.000Z')).toBe(true);
    expect((await jobs.listWaiting()).map((job) => job.id)).toEqual([first.id, second.id]);
    expect((await jobs.listWaiting('2026-03-01T12:00:01.000Z')).map((job) => job.id)).toEqual([second.id]);

    expect(await jobs.claimWaiting(first.id, '2026-03-01T12:00:03.000Z')).toMatchObject({
      admittedAt: expect.any(String),
    });
    expect(await jobs.claimWaiting(first.id, '2026-03-01T12:00:03.000Z')).toBeUndefined(); // attribute_exists(waitShard)
    await jobs.finish(second.id, ending(deps));
    expect(await jobs.listWaiting()).toEqual([]); // REMOVE_WHEN_TERMINAL
    expect(await jobs.markWaiting(second.id, first.createdAt)).toBe(false); // #rank < :terminal
  });

  it("lists an owner's jobs newest first, a page at a time", async () => {
    const deps = fakeDependencies();
    const ids = [0, 1, 2].map(() => {
      deps.time.advance(1);
      return seedJob(deps).id;
    });
    seedJob(deps, { owner: OTHER_OWNER });
    const first = await deps.jobs.listByOwner(OWNER, { limit: 2 });
    const second = await deps.jobs.listByOwner(OWNER, { limit: 2, cursor: first.cursor });
    expect([...first.jobs, ...second.jobs].map((job) => job.id)).toEqual(ids.reverse());
    expect(second.cursor).toBeUndefined();
  });
});

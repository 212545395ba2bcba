import { toJobView } from '../../../lambdas/core/job-view';
import { holdUntilEnd } from '../../../lambdas/use-cases/wait-for-end';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { seedJob } from './builders';

/** `Prefer: wait`: how long a create's answer is held, and which are not held at all. */
describe('holding a create until its job ends', () => {
  let deps: FakeDependencies;
  let reads: number;
  beforeEach(() => {
    deps = fakeDependencies();
    reads = 0;
    const get = deps.jobs.get.bind(deps.jobs);
    deps.jobs.get = (id) => {
      reads++;
      return get(id);
    };
  });
  const answer = (replayed: boolean, status: 'processing' | 'succeeded' = 'processing') => {
    const job = seedJob(deps, { status });
    return { job: toJobView(job, []), replayed };
  };

  it('counts the submit in the wait: a request that arrived the wait ago is answered after one read', async () => {
    const arrivedAt = deps.clock().getTime();
    deps.time.advance(11); // Replicate took 11 s to answer the create
    const held = await holdUntilEnd(deps, answer(false), 10, arrivedAt);
    expect(held.status).toBe('processing');
    expect(reads).toBe(1);
  });

  it('answers a replayed request (the same Idempotency-Key) at once, without reading: one job holds one request', async () => {
    const held = await holdUntilEnd(deps, answer(true), 25, deps.clock().getTime());
    expect(held.status).toBe('processing');
    expect(reads).toBe(0);
  });

  it('answers a job that ended already at once, and one deleted while held as it was submitted', async () => {
    expect((await holdUntilEnd(deps, answer(false, 'succeeded'), 25, deps.clock().getTime())).status).toBe('succeeded');
    expect(reads).toBe(0);
    // It ended and was deleted before the wait's first read: its tombstone is no answer.
    const submitted = answer(false);
    deps.jobs.seed({ ...deps.jobs.rows.get(submitted.job.id)!.job, status: 'succeeded' });
    await deps.jobs.replaceByTombstone(submitted.job.id, deps.clock().toISOString());
    expect(await holdUntilEnd(deps, submitted, 25, deps.clock().getTime())).toBe(submitted.job);
  });
});

import { InvalidRequest } from '../../../lambdas/core/errors';
import type { Job } from '../../../lambdas/core/job';
import { listJobs } from '../../../lambdas/use-cases/list-jobs';
import { type FakeDependencies, fakeDependencies } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER, seedJob } from './builders';

/** Seeds `count` jobs of `owner`, one a minute: answers them oldest first. */
function seedJobs(deps: FakeDependencies, count: number, fields: Partial<Job> = {}): Job[] {
  return Array.from({ length: count }, () => {
    deps.time.advance(60);
    return seedJob(deps, fields);
  });
}

const encode = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('listJobs', () => {
  it("pages through the owner's jobs newest first, never another owner's", async () => {
    const deps = fakeDependencies();
    const mine = seedJobs(deps, 5);
    seedJobs(deps, 2, { owner: OTHER_OWNER });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listJobs(deps, OWNER, { limit: 2, cursor });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((job) => job.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);

    expect(seen).toEqual(mine.map((job) => job.id).reverse());
    expect(pages).toBe(3);
  });

  it('answers a null cursor on the last page', async () => {
    const deps = fakeDependencies();
    seedJobs(deps, 2);
    await expect(listJobs(deps, OWNER, { limit: 10 })).resolves.toMatchObject({ nextCursor: null });
  });

  it('filters by status', async () => {
    const deps = fakeDependencies();
    seedJobs(deps, 1);
    const [succeeded] = seedJobs(deps, 1, { status: 'succeeded' });
    seedJobs(deps, 1);
    const page = await listJobs(deps, OWNER, { status: 'succeeded', limit: 10 });
    expect(page.jobs.map((job) => job.id)).toEqual([succeeded.id]);
  });

  it.each([
    ["another owner's cursor", (job: Job) => encode({ id: job.id, owner: OTHER_OWNER, createdAt: job.createdAt })],
    [
      'a cursor with an extra field',
      (job: Job) => encode({ id: job.id, owner: OWNER, createdAt: job.createdAt, x: 1 }),
    ],
    ['a cursor with a bad timestamp', (job: Job) => encode({ id: job.id, owner: OWNER, createdAt: 'yesterday' })],
    [
      'a cursor naming no job id',
      (job: Job) => encode({ id: 'quota#owner-a', owner: OWNER, createdAt: job.createdAt }),
    ],
    ['something that is not JSON', () => 'bm90IGpzb24'],
  ])('refuses %s as invalid_query, before the table is read', async (_, cursorOf) => {
    const deps = fakeDependencies();
    const [job] = seedJobs(deps, 1);
    const list = jest.spyOn(deps.jobs, 'listByOwner');
    const error = await listJobs(deps, OWNER, { limit: 2, cursor: cursorOf(job) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error).toMatchObject({ code: 'invalid_query' });
    expect(list).not.toHaveBeenCalled();
  });
});

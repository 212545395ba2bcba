import { NotFound } from '../../../lambdas/core/errors';
import { createUpload } from '../../../lambdas/use-cases/create-upload';
import { deleteJob } from '../../../lambdas/use-cases/delete-job';
import { getJob } from '../../../lambdas/use-cases/get-job';
import { useUploads } from '../../../lambdas/use-cases/job-uploads';
import { listJobs } from '../../../lambdas/use-cases/list-jobs';
import { fakeDependencies } from '../../support/fake-ports';
import { OWNER, seedJob } from './builders';

describe('deleted jobs and their uploads', () => {
  it('a tombstone is no job: GET answers 404 and a list read racing the delete leaves it out', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'succeeded', predictionId: 'pred_1' });
    await deleteJob(deps, OWNER, job.id);
    await expect(getJob(deps, OWNER, job.id)).rejects.toBeInstanceOf(NotFound);
    // The index read may still name it (the fake lists by owner, like an index read before the tombstone's write).
    const page = await listJobs(deps, OWNER, { limit: 10 });
    expect(page.jobs.map((each) => each.id)).not.toContain(job.id);
  });

  it('deleting a job deletes the upload only it used, and keeps one another job still uses', async () => {
    const deps = fakeDependencies();
    const only = await createUpload(deps, OWNER, { contentType: 'image/png', size: 3 });
    const shared = await createUpload(deps, OWNER, { contentType: 'image/png', size: 3 });
    for (const t of [only, shared])
      await deps.objects.upload(`uploads/${OWNER}/${t.id}`, Buffer.from('png'), 'image/png');
    const a = seedJob(deps, { status: 'succeeded', input: { image: only.reference, mask: shared.reference } });
    const b = seedJob(deps, { status: 'succeeded', input: { mask: shared.reference } });
    await useUploads(deps, OWNER, a, { keepNotes: false });
    await useUploads(deps, OWNER, b, { keepNotes: false });
    await deleteJob(deps, OWNER, a.id);
    expect(deps.objects.keys().sort()).toEqual([`uploads/${OWNER}/${shared.id}`]);
  });

  it('an upload whose bytes never arrived is unknown_upload', async () => {
    const deps = fakeDependencies();
    const ticket = await createUpload(deps, OWNER, { contentType: 'image/png', size: 3 });
    await expect(
      useUploads(deps, OWNER, { id: 'job_x', input: { image: ticket.reference } }, { keepNotes: false }),
    ).rejects.toMatchObject({
      code: 'unknown_upload',
    });
  });
});

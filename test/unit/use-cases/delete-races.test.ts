import { discardCopiesIfEnded } from '../../../lambdas/use-cases/copy-outputs';
import { deleteJob } from '../../../lambdas/use-cases/delete-job';
import { fakeDependencies } from '../../support/fake-ports';
import { OWNER, seedJob } from './builders';

describe('DELETE racing a late copy', () => {
  it('a copy that lands after its succeeded job was deleted is removed, not kept for the tombstone', async () => {
    const deps = fakeDependencies();
    const key = 'outputs/owner-a/j/0.png';
    const job = seedJob(deps, {
      status: 'succeeded',
      predictionId: 'pred_1',
      outputs: [{ index: 0, key, contentType: 'image/png', size: 3 }],
    });
    await deps.objects.upload(key, Buffer.from('png'), 'image/png');
    await deleteJob(deps, OWNER, job.id);
    expect(deps.objects.keys()).toEqual([]);

    // A consumer whose transfer lease expired (another one made the job succeed) finishes its upload of the
    // same key now; its success write is refused by the tombstone's rank, and it decides what to do with its copy.
    await deps.objects.upload(key, Buffer.from('png'), 'image/png');
    const removed = await discardCopiesIfEnded(deps, job.id, [key]);

    expect(removed).toBe(true);
    expect(deps.objects.keys()).toEqual([]);
  });
});

import { LimitExceeded } from '../../../lambdas/core/errors';
import { DEFAULT_LIMITS } from '../../../lambdas/core/owner-limits';
import { createUpload } from '../../../lambdas/use-cases/create-upload';
import { submitJob } from '../../../lambdas/use-cases/submit-job';
import { FakeOwnerQuota } from '../../support/fake-ports';

describe('uploads named by a refused submission', () => {
  it('a submission the owner limit refuses does not keep the upload alive past DELETE of the job that used it', async () => {
    const deps = fakeDependencies({ quota: new FakeOwnerQuota({ ...DEFAULT_LIMITS, maxInFlight: 0 }) });
    const ticket = await createUpload(deps, OWNER, { contentType: 'image/png', size: 3 });
    await deps.objects.upload(`uploads/${OWNER}/${ticket.id}`, Buffer.from('png'), 'image/png');
    const spec = { model: 'acme/painter', input: { image: ticket.reference }, webhookEvents: [] } as never;

    // Refused for the owner's in-flight limit: nothing should be written for it.
    await expect(submitJob(deps, { owner: OWNER, spec, apiBaseUrl: 'https://api.test' })).rejects.toBeInstanceOf(
      LimitExceeded,
    );
    // The owner retries once under its limit, then deletes that job: the upload no other job uses must go with it.
    (deps as { quota: FakeOwnerQuota }).quota = new FakeOwnerQuota();
    const job = await submitJob(deps, { owner: OWNER, spec, apiBaseUrl: 'https://api.test' });
    await deleteJob(deps, OWNER, job.id);
    expect(deps.objects.keys()).not.toContain(`uploads/${OWNER}/${ticket.id}`);
    expect(deps.uploads.uploads.has(ticket.id)).toBe(false);
  });

  it('a submission refused for another unknown upload does not keep the good one alive past DELETE', async () => {
    const deps = fakeDependencies();
    const ticket = await createUpload(deps, OWNER, { contentType: 'image/png', size: 3 });
    await deps.objects.upload(`uploads/${OWNER}/${ticket.id}`, Buffer.from('png'), 'image/png');
    const spec = (input: Record<string, unknown>) => ({ model: 'acme/painter', input, webhookEvents: [] }) as never;

    await expect(
      submitJob(deps, {
        owner: OWNER,
        spec: spec({ a: ticket.reference, b: 'upload:upl_00000000000000000000000000' }),
        apiBaseUrl: 'https://api.test',
      }),
    ).rejects.toMatchObject({ code: 'unknown_upload' });
    const job = await submitJob(deps, {
      owner: OWNER,
      spec: spec({ a: ticket.reference }),
      apiBaseUrl: 'https://api.test',
    });
    await deleteJob(deps, OWNER, job.id);
    expect(deps.objects.keys()).not.toContain(`uploads/${OWNER}/${ticket.id}`);
  });
});

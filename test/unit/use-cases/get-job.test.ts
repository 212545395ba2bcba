import { NotFound } from '../../../lambdas/core/errors';
import { newJobId } from '../../../lambdas/core/ids';
import { getJob } from '../../../lambdas/use-cases/get-job';
import { fakeDependencies } from '../../support/fake-ports';
import { OTHER_OWNER, OWNER, seedJob } from './builders';

describe('getJob', () => {
  it("answers the owner's job with a presigned URL per stored output, in place of Replicate's", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, {
      status: 'succeeded',
      predictionId: 'pred_1',
      output: { image: 'https://replicate.delivery/x/out.png', notes: 'https://replicate.delivery/x/notes.html' },
      outputs: [
        { index: 0, key: 'outputs/owner-a/j/0.png', contentType: 'image/png', size: 3 },
        { index: 1, key: 'outputs/owner-a/j/1.html', contentType: 'text/html', size: 5 },
      ],
    });

    const view = await getJob(deps, OWNER, job.id);

    // Media is shown in place; anything else (HTML here) is served as an attachment.
    const image = 'https://bucket.test/outputs/owner-a/j/0.png?expires=900&inline';
    const notes = 'https://bucket.test/outputs/owner-a/j/1.html?expires=900';
    expect(view.output).toEqual({ image, notes });
    expect(view.outputs.map((output) => output.url)).toEqual([image, notes]);
    expect(view).toMatchObject({ id: job.id, status: 'succeeded', predictionId: 'pred_1' });
  });

  it('reads an output stored in the bucket (too large for the job item)', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps, { status: 'succeeded', outputKey: 'results/owner-a/j/output.json' });
    await deps.objects.putText('results/owner-a/j/output.json', JSON.stringify(['a', 'long', 'text']));
    await expect(getJob(deps, OWNER, job.id)).resolves.toMatchObject({ output: ['a', 'long', 'text'] });
  });

  it("answers NotFound for another owner's job, an unknown id and a malformed one alike", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    const lookUp = jest.spyOn(deps.jobs, 'get');
    await expect(getJob(deps, OTHER_OWNER, job.id)).rejects.toBeInstanceOf(NotFound);
    await expect(getJob(deps, OWNER, newJobId())).rejects.toBeInstanceOf(NotFound);
    await expect(getJob(deps, OWNER, '../quota#owner-a')).rejects.toBeInstanceOf(NotFound);
    expect(lookUp).toHaveBeenCalledTimes(2); // the malformed id never reaches the table
  });
});

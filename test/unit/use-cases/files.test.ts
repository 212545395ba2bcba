import { uploadKey } from '../../../contract/bucket';
import { InvalidRequest } from '../../../lambdas/core/errors';
import { findUploadReferences, parseCreateUpload, resolveUploadReferences } from '../../../lambdas/core/uploads';
import { createUpload } from '../../../lambdas/use-cases/create-upload';
import { deleteJob } from '../../../lambdas/use-cases/delete-job';
import { inputForReplicate, useUploads } from '../../../lambdas/use-cases/job-uploads';
import { fakeDependencies } from '../../support/fake-ports';
import { storedJob as buildJob } from '../../support/records';

describe('uploads: parsing, references, use', () => {
  it('parses a create request; refuses types off the list, sizes over the limit, floats and control characters', () => {
    expect(parseCreateUpload('{"contentType":"image/png","size":10,"filename":"a.png"}', 100)).toEqual({
      contentType: 'image/png',
      size: 10,
      filename: 'a.png',
    });
    const refused = (body: unknown) => {
      try {
        parseCreateUpload(JSON.stringify(body), 100);
      } catch (error) {
        return (error as InvalidRequest).details as Array<{ path: string }>;
      }
      throw new Error('accepted');
    };
    expect(refused({ contentType: 'text/html', size: 1 })[0].path).toBe('contentType');
    expect(refused({ contentType: 'image/PNG', size: 1 })[0].path).toBe('contentType');
    expect(refused({ contentType: 'image/png', size: 101 })[0].path).toBe('size');
    expect(refused({ contentType: 'image/png', size: 0 })[0].path).toBe('size');
    expect(refused({ contentType: 'image/png', size: 1.5 })[0].path).toBe('size');
    expect(refused({ contentType: 'image/png', size: 1, filename: 'a\nb' })[0].path).toBe('filename');
    expect(refused({ contentType: 'image/png', size: 1, extra: 1 })[0].path).toBe('(body)');
    expect(() => parseCreateUpload('{', 100)).toThrow(InvalidRequest);
  });

  it('finds references anywhere in the input, with their paths; resolves them; leaves other text alone', () => {
    const input = {
      image: 'upload:upl_a',
      list: ['x', 'upload:upl_b'],
      deep: { v: 'upload:upl_a' },
      text: 'upload: hi',
    };
    expect(findUploadReferences(input)).toEqual([
      { path: 'input.image', uploadId: 'upl_a' },
      { path: 'input.list.1', uploadId: 'upl_b' },
      { path: 'input.deep.v', uploadId: 'upl_a' },
    ]);
    const urls = new Map([
      ['upl_a', 'https://a'],
      ['upl_b', 'https://b'],
    ]);
    expect(resolveUploadReferences(input, urls)).toEqual({
      image: 'https://a',
      list: ['x', 'https://b'],
      deep: { v: 'https://a' },
      text: 'upload: hi',
    });
  });

  it('a job may name only finished, unexpired uploads of its owner; each named one records the job', async () => {
    const deps = fakeDependencies();
    const mine = await createUpload(deps, 'alice', { contentType: 'image/png', size: 3 });
    const theirs = await createUpload(deps, 'bob', { contentType: 'image/png', size: 3 });
    const unfinished = await createUpload(deps, 'alice', { contentType: 'image/png', size: 3 });
    await deps.objects.upload(uploadKey('alice', mine.id), Buffer.from('abc'), 'image/png');
    await deps.objects.upload(uploadKey('bob', theirs.id), Buffer.from('abc'), 'image/png');
    expect(mine).toMatchObject({ method: 'PUT', headers: { 'content-type': 'image/png', 'content-length': '3' } });

    await useUploads(deps, 'alice', { id: 'job_1', input: { image: mine.reference } }, { keepNotes: false });
    expect(deps.uploads.uploads.get(mine.id)!.jobs).toEqual(new Set(['job_1']));

    const refusal = await useUploads(
      deps,
      'alice',
      {
        id: 'job_2',
        input: { a: theirs.reference, b: unfinished.reference, c: 'upload:upl_zz', d: mine.reference },
      },
      { keepNotes: false },
    ).catch((error) => error);
    expect(refusal).toMatchObject({ code: 'unknown_upload' });
    expect(refusal.details.map((d: { path: string }) => d.path)).toEqual(['input.a', 'input.b', 'input.c']);
    expect(deps.uploads.uploads.get(mine.id)!.jobs).toEqual(new Set(['job_1'])); // job_2's note taken back

    deps.time.advance(8 * 86_400); // past the 7 days of TEST_SETTINGS
    await expect(
      useUploads(deps, 'alice', { id: 'job_3', input: { image: mine.reference } }, { keepNotes: false }),
    ).rejects.toMatchObject({
      code: 'unknown_upload',
    });
  });

  it('Replicate is sent presigned GETs valid for the job’s timeout and more; the job keeps its references', async () => {
    const deps = fakeDependencies();
    const job = buildJob({ input: { image: 'upload:upl_a', n: 1 }, timeoutSeconds: 600 });
    const sent = await inputForReplicate(deps, job);
    expect(sent.image).toMatch(new RegExp(`^https://bucket.test/uploads/${job.owner}/upl_a\\?expires=(\\d+)`));
    expect(Number(/expires=(\d+)/.exec(sent.image as string)![1])).toBeGreaterThanOrEqual(600);
    expect(job.input.image).toBe('upload:upl_a');
  });
});

describe('deleting a job', () => {
  it('removes its objects (outputs, variants, large output), its unused uploads, then leaves a tombstone', async () => {
    const deps = fakeDependencies();
    const upload = await createUpload(deps, 'alice', { contentType: 'image/png', size: 1 });
    await deps.objects.upload(uploadKey('alice', upload.id), Buffer.from('a'), 'image/png');
    await useUploads(deps, 'alice', { id: 'job_keep', input: { i: upload.reference } }, { keepNotes: false });
    await useUploads(deps, 'alice', { id: 'job_del', input: { i: upload.reference } }, { keepNotes: false });
    const job = deps.jobs.seed(
      buildJob({
        id: 'job_0000000000000000000000000d',
        owner: 'alice',
        status: 'succeeded',
        rank: 3,
        input: { i: upload.reference },
        outputKey: 'results/alice/job_del/output.json',
        outputs: [
          {
            index: 0,
            key: 'outputs/alice/job_del/0.png',
            contentType: 'image/png',
            size: 1,
            variants: [
              {
                format: 'webp',
                key: 'outputs/alice/job_del/0.0.webp',
                contentType: 'image/webp',
                size: 1,
                width: 1,
                height: 1,
              },
              { format: 'avif', error: { code: 'not_an_image', message: 'm' } },
            ],
          },
        ],
      }),
    );
    for (const key of [
      'outputs/alice/job_del/0.png',
      'outputs/alice/job_del/0.0.webp',
      'results/alice/job_del/output.json',
    ])
      await deps.objects.upload(key, Buffer.from('x'), 'image/png');
    // job_del is not the id the upload recorded: the upload stays for job_keep and job_del.
    deps.uploads.uploads.get(upload.id)!.jobs.add(job.id);
    deps.uploads.uploads.get(upload.id)!.jobs.delete('job_del');

    await expect(deleteJob(deps, 'bob', job.id)).rejects.toMatchObject({ code: 'not_found' });
    await deleteJob(deps, 'alice', job.id);
    expect(deps.objects.keys()).toEqual([uploadKey('alice', upload.id)]); // still used by job_keep
    expect((await deps.jobs.get(job.id))!.deletedAt).toBeDefined();
    expect(await deps.jobs.get(job.id)).not.toHaveProperty('input');
    await deleteJob(deps, 'alice', job.id); // idempotent

    deps.uploads.uploads.get(upload.id)!.jobs.delete('job_keep');
    deps.uploads.uploads.get(upload.id)!.jobs.add(job.id);
    deps.jobs.seed({ ...job, deletedAt: undefined });
    await deleteJob(deps, 'alice', job.id);
    expect(deps.objects.keys()).toEqual([]); // the last user gone: the upload too
  });

  it('cancels a running job at Replicate before deleting it', async () => {
    const deps = fakeDependencies();
    const job = deps.jobs.seed(
      buildJob({
        id: 'job_0000000000000000000000000r',
        owner: 'alice',
        status: 'processing',
        rank: 2,
        predictionId: 'p1',
      }),
    );
    deps.replicate.predictions.set('p1', { id: 'p1', status: 'processing' } as never);
    await deleteJob(deps, 'alice', job.id);
    expect(deps.replicate.callsOf('cancelPrediction')).toEqual(['p1']);
    expect((await deps.jobs.get(job.id))!.deletedAt).toBeDefined();
  });
});

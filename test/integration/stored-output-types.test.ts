import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { presentJob } from '../../lambdas/use-cases/present-job';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * Stored XSS: outputs of every owner are served from one bucket's origin, so what a model returns must never be
 * stored or served as a page. Through the deployed bundles and the presigned URLs the API hands out.
 */
describe('stored outputs are not web pages (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  const PAGE = 'data:text/html,<script>alert(document.domain)</script>';

  it('stores pages, SVG and data: URI HTML as opaque .bin bytes, and their URLs download them', async () => {
    const { id } = await stack.submit({
      model: 'a/b',
      input: { simulate: { files: [PAGE, 'page.html', 'drawing.svg', 'notes.txt', 'out-0.png'] } },
    });
    const job = await stack.waitFor(id);
    expect(job.status).toBe('succeeded');
    expect(job.outputs.map(({ key, contentType }) => [key, contentType])).toEqual([
      [`outputs/alice/${id}/0.bin`, 'application/octet-stream'],
      [`outputs/alice/${id}/1.bin`, 'application/octet-stream'],
      [`outputs/alice/${id}/2.bin`, 'application/octet-stream'],
      [`outputs/alice/${id}/3.txt`, 'text/plain'],
      [`outputs/alice/${id}/4.png`, 'image/png'],
    ]);
    // The objects themselves carry the safe type (whoever reads them, however).
    for (const output of job.outputs) {
      const head = await stack.emulators.clients.s3.send(
        new HeadObjectCommand({ Bucket: stack.emulators.resources.bucketName, Key: output.key }),
      );
      expect(head.ContentType).toBe(output.contentType);
    }
    const served = await Promise.all(
      job.outputs.map(async (output) => {
        const response = await fetch(output.url);
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          disposition: response.headers.get('content-disposition'),
          body: await response.text(),
        };
      }),
    );
    expect(served.map(({ status }) => status)).toEqual([200, 200, 200, 200, 200]);
    expect(served[0]).toMatchObject({
      type: 'application/octet-stream',
      disposition: 'attachment; filename="0.bin"',
      body: '<script>alert(document.domain)</script>',
    });
    expect(served[1]).toMatchObject({ type: 'application/octet-stream', disposition: 'attachment; filename="1.bin"' });
    expect(served[2]).toMatchObject({ type: 'application/octet-stream', disposition: 'attachment; filename="2.bin"' });
    expect(served[3]).toMatchObject({ type: 'text/plain', disposition: 'attachment; filename="3.txt"' });
    // Raster images (and audio, video) are still shown in place: the console previews them.
    expect(served[4]).toMatchObject({ type: 'image/png', disposition: null });
  });

  it('makes an output recorded with an unsafe type before this rule a download too (decided when the URL is signed)', async () => {
    const { id } = await stack.submit({ model: 'a/b', input: { simulate: { output: 'image' } } });
    const job = (await stack.deps.jobs.get((await stack.waitFor(id)).id))!;
    const legacy = { ...job, outputs: [{ ...job.outputs[0], contentType: 'text/html' }] };
    const [url] = (await presentJob(stack.deps, legacy)).outputs.map((output) => output.url);
    expect(new URL(url).searchParams.get('response-content-disposition')).toBe('attachment; filename="0.png"');
    const [inline] = (await presentJob(stack.deps, job)).outputs.map((output) => output.url);
    expect(new URL(inline).searchParams.has('response-content-disposition')).toBe(false);
  });

  it('a presigned URL whose disposition is edited out no longer verifies', async () => {
    const { id } = await stack.submit({ model: 'a/b', input: { simulate: { files: ['page.html'] } } });
    const job = await stack.waitFor(id);
    const edited = new URL(job.outputs[0].url);
    edited.searchParams.delete('response-content-disposition');
    const response = await fetch(edited);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('SignatureDoesNotMatch');
  });
});

import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * Files in and out, on the local stack as deployed: uploads for inputs (signed PUT, `upload:` references
 * replaced by a presigned GET before Replicate sees them), image derivatives made by the consumer's real
 * WebAssembly libvips, retention tags, and DELETE removing every object and the job.
 */
describe('files: uploads, derivatives, retention and deletion', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { OUTPUT_RETENTION_DAYS: '30' } });
  });
  afterAll(() => stack?.stop());

  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==',
    'base64',
  );

  async function upload(bytes: Buffer, contentType = 'image/png', key = 'key-alice') {
    const ticket = await stack.request('/uploads', {
      key,
      body: { contentType, size: bytes.length, filename: 'ref.png' },
    });
    expect(ticket.status).toBe(201);
    const put = await fetch(ticket.json.uploadUrl, {
      method: ticket.json.method,
      headers: ticket.json.headers,
      body: new Uint8Array(bytes),
    });
    return { ticket: ticket.json, put };
  }

  const bucketKeys = async (prefix: string) => {
    const listed = await stack.emulators.clients.s3.send(
      new ListObjectsV2Command({ Bucket: stack.emulators.resources.bucketName, Prefix: prefix }),
    );
    return (listed.Contents ?? []).map((object) => object.Key!);
  };

  it('an upload named in the input reaches Replicate as a URL serving its bytes; the job keeps the reference', async () => {
    const { ticket, put } = await upload(PNG);
    expect(put.status).toBe(200);
    expect(ticket).toMatchObject({
      id: expect.stringMatching(/^upl_/),
      method: 'PUT',
      reference: `upload:${ticket.id}`,
    });
    // No checksum of an empty body signed into the URL: S3 would refuse the real bytes (aws-sdk-js-v3#6994).
    expect([...new URL(ticket.uploadUrl).searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
    const job = await stack.submit({
      model: 'a/b',
      input: { image: ticket.reference, nested: { frames: [ticket.reference] }, simulate: { fetchInputs: true } },
    });
    expect(job.status).not.toBe('failed');
    const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
    const sent = prediction.input as { image: string; nested: { frames: string[] } };
    expect(sent.image).toMatch(/^http/);
    expect(sent.nested.frames[0]).toBe(sent.image);
    const fetched = stack.simulator!.inputFetches.get(job.predictionId!)!;
    expect(fetched.map((each) => each.status)).toEqual([200, 200]);
    expect(Buffer.compare(fetched[0].bytes, PNG)).toBe(0);
    const stored = await stack.request(`/jobs/${job.id}`);
    expect(JSON.stringify(stored.json)).not.toContain('X-Amz-Signature');
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
  });

  it('S3 refuses bytes of another length or type than the ones signed', async () => {
    const ticket = (await stack.request('/uploads', { body: { contentType: 'image/png', size: PNG.length } })).json;
    const longer = await fetch(ticket.uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(Buffer.concat([PNG, PNG])),
    });
    expect(longer.status).toBe(403);
    const html = await fetch(ticket.uploadUrl, {
      method: 'PUT',
      headers: { 'content-type': 'text/html' },
      body: new Uint8Array(PNG),
    });
    expect(html.status).toBe(403);
  });

  it("another owner's, an unfinished, a malformed or an unknown upload answers 422 unknown_upload naming the field; nothing is written", async () => {
    const { ticket } = await upload(PNG, 'image/png', 'key-bob');
    const unfinished = (await stack.request('/uploads', { body: { contentType: 'image/png', size: 10 } })).json;
    const before = await stack.itemCount();
    const refused = await stack.request('/jobs', {
      body: {
        model: 'a/b',
        input: {
          theirs: ticket.reference,
          notYet: unfinished.reference,
          bad: 'upload:upl_nope',
          plain: 'upload: text that is not a reference',
        },
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('unknown_upload');
    expect(refused.json.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'input.bad',
      'input.notYet',
      'input.theirs',
    ]);
    expect(await stack.itemCount()).toBe(before);
  });

  it('POST /uploads refuses a type off the list and a size over maxUploadBytes', async () => {
    const html = await stack.request('/uploads', { body: { contentType: 'text/html', size: 10 } });
    expect(html).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    const big = await stack.request('/uploads', { body: { contentType: 'image/png', size: 100 * 1024 ** 2 + 1 } });
    expect(big).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    expect(big.json.error.details[0].path).toBe('size');
  });

  it('a job with derivatives gets a WebP variant no wider than asked, tagged with its retention; not-an-image variants list an error', async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images', count: 1, imageSize: [1200, 800] } },
      derivatives: [
        { format: 'webp', maxWidth: 300, quality: 70 },
        { format: 'avif', maxWidth: 5000 },
      ],
      retentionDays: 7,
    });
    const done = await stack.waitFor(job.id, undefined, { timeoutMs: 30_000 });
    expect(done.status).toBe('succeeded');
    const [webp, avif] = done.outputs[0].variants!;
    expect(webp).toMatchObject({ format: 'webp', width: 300, height: 200, contentType: 'image/webp' });
    if (!('url' in webp) || !('url' in avif)) throw new Error('variants not stored');
    expect(webp.key).toBe(`outputs/alice/${job.id}/0.0.webp`);
    const bytes = Buffer.from(await (await fetch(webp.url)).arrayBuffer());
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(bytes.length).toBe(webp.size);
    expect(avif).toMatchObject({ width: 1200, height: 800 }); // never upscaled
    expect(done).toMatchObject({ retentionDays: 7, outputsExpireAt: expect.any(String) });
    const tagged = stack.awsRequests.filter((r) => r.action === 's3:PutObjectTagging' && r.allowed).map((r) => r.key);
    expect(tagged).toEqual(expect.arrayContaining([done.outputs[0].key, webp.key, avif.key]));

    const broken = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images', count: 1, sizeBytes: 100 } }, // typed image/png, not a PNG
      derivatives: [{ format: 'webp' }],
    });
    const copied = await stack.waitFor(broken.id, undefined, { timeoutMs: 30_000 });
    expect(copied.status).toBe('succeeded');
    expect(copied.outputs[0].variants).toEqual([
      { format: 'webp', error: { code: 'not_an_image', message: expect.any(String) } },
    ]);

    const text = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'text' } },
      derivatives: [{ format: 'png' }],
    });
    const plain = await stack.waitFor(text.id);
    expect(plain.status).toBe('succeeded');
    expect(plain.outputs.every((output) => output.variants === undefined)).toBe(true);
    expect(plain.retentionDays).toBe(30); // the deployment's OUTPUT_RETENTION_DAYS
  });

  it('DELETE removes the outputs, variants and the unused upload, then answers 404; idempotent; another owner gets 404', async () => {
    const { ticket } = await upload(PNG);
    const shared = await stack.submit({ model: 'a/b', input: { image: ticket.reference } });
    const job = await stack.submit({
      model: 'a/b',
      input: { image: ticket.reference, simulate: { output: 'images', count: 2, imageSize: [64, 64] } },
      derivatives: [{ format: 'jpeg', maxWidth: 32 }],
    });
    const done = await stack.waitFor(job.id, undefined, { timeoutMs: 30_000 });
    const url = done.outputs[0].url;
    expect((await fetch(url)).status).toBe(200);
    expect(await bucketKeys(`outputs/alice/${job.id}/`)).toHaveLength(4);

    expect((await stack.request(`/jobs/${job.id}`, { method: 'DELETE', key: 'key-bob' })).status).toBe(404);
    expect((await stack.request(`/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await bucketKeys(`outputs/alice/${job.id}/`)).toEqual([]);
    expect((await fetch(url)).status).toBe(404);
    expect((await stack.request(`/jobs/${job.id}`)).status).toBe(404);
    expect((await stack.request(`/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    const listed = await stack.request('/jobs?limit=100');
    expect(listed.json.jobs.map((each: { id: string }) => each.id)).not.toContain(job.id);
    // The upload is still used by the other job; deleting that one too removes it.
    expect(await bucketKeys(`uploads/alice/${ticket.id}`)).toHaveLength(1);
    await stack.waitFor(shared.id);
    expect((await stack.request(`/jobs/${shared.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await bucketKeys(`uploads/alice/${ticket.id}`)).toEqual([]);
    const reused = await stack.request('/jobs', { body: { model: 'a/b', input: { image: ticket.reference } } });
    expect(reused.json.error.code).toBe('unknown_upload');
  });

  it('DELETE of a running job cancels its prediction first', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 3_600_000, webhooks: false } } });
    expect((await stack.request(`/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(stack.simulator!.predictions.get(job.predictionId!)!.status).toBe('canceled');
    expect((await stack.request(`/jobs/${job.id}`)).status).toBe(404);
  });
});

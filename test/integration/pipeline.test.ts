import { startTestStack, type TestStack } from '../support/local-stack';

/** The whole pipeline on the local stack: submit → signed webhooks → queue → consumer → S3 → status. */
describe('job pipeline (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  it('answers health without an API key', async () => {
    expect(await stack.request('/health', { key: null })).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('takes a job from queued to succeeded with its output copied byte for byte', async () => {
    const response = await stack.request('/jobs', {
      body: { model: 'black-forest-labs/flux-schnell', input: { prompt: 'a cat' }, metadata: { user: 7 } },
    });
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({
      status: 'queued',
      model: 'black-forest-labs/flux-schnell',
      metadata: { user: 7 },
      outputs: [],
    });
    expect(response.headers.get('location')).toBe(`/jobs/${response.json.id}`);
    expect(response.json.predictionId).toEqual(expect.any(String));

    const job = await stack.waitFor(response.json.id);
    expect(job).toMatchObject({ status: 'succeeded', error: null, predictionId: response.json.predictionId });
    expect(job.startedAt).toEqual(expect.any(String));
    expect(job.completedAt).toEqual(expect.any(String));
    expect(job.outputs).toEqual([
      {
        key: `outputs/alice/${job.id}/0.png`,
        url: expect.any(String),
        contentType: 'image/png',
        size: expect.any(Number),
      },
    ]);
    const original = stack.simulator!.predictions.get(job.predictionId!)!.output as string;
    expect(job.output).toBe(job.outputs[0].url);
    const copy = Buffer.from(await (await fetch(job.outputs[0].url)).arrayBuffer());
    expect(copy.equals(stack.simulator!.fileBytes(original))).toBe(true);
    expect(copy.subarray(1, 4).toString()).toBe('PNG');
  });

  it('copies a larger file exactly (multipart upload)', async () => {
    const sizeBytes = 12 * 1024 * 1024 + 123;
    const { id, predictionId } = await stack.submit({ model: 'a/b', input: { simulate: { sizeBytes } } });
    const job = await stack.waitFor(id);
    expect(job.status).toBe('succeeded');
    expect(job.outputs[0].size).toBe(sizeBytes);
    const copy = Buffer.from(await (await fetch(job.outputs[0].url)).arrayBuffer());
    const original = stack.simulator!.predictions.get(predictionId!)!.output as string;
    expect(copy.equals(stack.simulator!.fileBytes(original))).toBe(true);
  });

  it.each([
    [
      'a list of files',
      'images',
      (job: any) => {
        expect(job.outputs.map((o: any) => o.key)).toEqual([0, 1, 2].map((i) => `outputs/alice/${job.id}/${i}.png`));
        expect(job.output).toEqual(job.outputs.map((o: any) => o.url));
      },
    ],
    [
      'an object holding files and values',
      'object',
      (job: any) => {
        expect(job.outputs.map((o: any) => o.contentType)).toEqual(['image/png', 'audio/wav']);
        expect(job.output).toEqual({
          image: job.outputs[0].url,
          audio: job.outputs[1].url,
          caption: 'a simulated caption',
          seed: 42,
        });
      },
    ],
    [
      'plain text',
      'text',
      (job: any) => {
        expect(job.outputs).toEqual([]);
        expect(job.output).toBe('Hello from the Replicate simulator.');
      },
    ],
    [
      'a token list',
      'tokens',
      (job: any) => {
        expect(job.outputs).toEqual([]);
        expect(job.output).toEqual(['Hello', ' from', ' the', ' simulator', '.']);
      },
    ],
    ['a number', 'number', (job: any) => expect(job.output).toBe(42)],
    [
      'nested JSON with a file inside',
      'json',
      (job: any) => {
        expect(job.outputs).toHaveLength(1);
        expect(job.outputs[0]).toMatchObject({ key: `outputs/alice/${job.id}/0.txt`, contentType: 'text/plain' });
        expect(job.output).toEqual({ scores: [0.1, 0.9], nested: { files: [job.outputs[0].url], label: 'cat' } });
      },
    ],
    ['no output', 'none', (job: any) => expect(job.output).toBeNull()],
  ])('handles %s', async (_name, output, check) => {
    const { id } = await stack.submit({ model: 'a/b', input: { simulate: { output, count: 3 } } });
    const job = await stack.waitFor(id);
    expect(job.status).toBe('succeeded');
    check(job);
  });

  it("records a failed prediction with Replicate's error", async () => {
    const { id } = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'CUDA out of memory' } } });
    const job = await stack.waitFor(id);
    expect(job).toMatchObject({
      status: 'failed',
      error: { code: 'prediction_failed', message: 'CUDA out of memory' },
      outputs: [],
    });
  });

  it('accepts a version instead of a model, and a model pinned to a version', async () => {
    const version = 'f'.repeat(64);
    const a = await stack.submit({ version, input: {} });
    const b = await stack.submit({ model: `owner/model:${version}`, input: {} });
    expect(a.version).toBe(version);
    expect(b).toMatchObject({ model: 'owner/model', version });
    expect(stack.simulator!.predictions.get(b.predictionId!)!.version).toBe(version);
    expect((await stack.waitFor(a.id)).status).toBe('succeeded');
  });

  it('passes the webhook URL and event filter to Replicate', async () => {
    const job = await stack.submit({ model: 'a/b', input: {}, webhookEvents: ['start', 'output'] });
    const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
    expect(prediction.webhook).toBe(`${stack.url}/webhooks/replicate?job=${job.id}`);
    expect(prediction.webhook_events_filter).toEqual(['start', 'output', 'completed']);
  });

  it('fails the job (never stuck in queued) when Replicate refuses the input, and says why', async () => {
    const response = await stack.request('/jobs', {
      body: { model: 'a/b', input: { simulate: { reject: 'prompt is required' } } },
    });
    expect(response.status).toBe(422);
    expect(response.json.error).toMatchObject({
      code: 'replicate_rejected_input',
      details: { replicate: 'prompt is required' },
    });
    const job = (await stack.request(`/jobs/${response.json.error.details.jobId}`)).json;
    expect(job).toMatchObject({ status: 'failed', error: { code: 'submit_failed' }, predictionId: null });
  });

  it('accepts a job Replicate throttles: 202, queued, waiting for capacity, no prediction', async () => {
    const before = stack.simulator!.predictions.size;
    const response = await stack.request('/jobs', { body: { model: 'a/b', input: { simulate: { rateLimit: true } } } });
    expect(response).toMatchObject({ status: 202, json: { status: 'queued', predictionId: null } });
    expect(response.json.waitingSince).toEqual(expect.any(String));
    expect(stack.simulator!.predictions.size).toBe(before);
    await stack.request(`/jobs/${response.json.id}/cancel`, { method: 'POST' }); // leaves nothing waiting
  });
});

import { randomBytes } from 'node:crypto';
import { eventually, startTestStack, storedKeys, type TestStack, withoutUrls } from '../support/local-stack';

/**
 * Duplicates, reordering, races and late webhooks on the local stack: the job and its stored outputs end
 * up right, once. Each test names the mechanism it protects.
 */
describe('exactly once (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { DOWNLOAD_RETRY_BASE_MS: '5' } });
  });
  afterAll(() => stack.stop());

  const simulator = () => stack.simulator!;
  const downloadsOf = (predictionId: string) =>
    [...simulator().downloads.entries()].filter(([path]) => path.includes(predictionId)).map(([, count]) => count);

  /** A job whose prediction has completed at the simulator without telling us: we deliver its webhooks by hand. */
  async function silentlyCompletedJob(simulate: Record<string, unknown> = {}) {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { webhooks: false, ...simulate } } });
    await eventually(() => ['succeeded', 'failed'].includes(simulator().predictions.get(job.predictionId!)!.status));
    return job;
  }

  it('a storm of ten duplicate `completed` webhooks plus stale `start`/`output` ones: one transfer per output (lease + rank)', async () => {
    const job = await silentlyCompletedJob({ output: 'images', count: 3, sizeBytes: 256 * 1024 });
    const prediction = simulator().predictions.get(job.predictionId!)!;
    const stale = (status: string) => JSON.stringify({ ...prediction, status, output: null });
    const deliveries = [
      ...Array.from({ length: 10 }, () => simulator().sendWebhook(job.predictionId!, 'completed')),
      simulator().sendWebhook(job.predictionId!, 'start', { body: stale('starting') }),
      simulator().sendWebhook(job.predictionId!, 'output', { body: stale('processing') }),
    ];
    expect((await Promise.all(deliveries)).every((status) => status === 202)).toBe(true);
    const done = await stack.waitFor(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toHaveLength(3);
    // Late stale events after success change nothing either.
    await simulator().sendWebhook(job.predictionId!, 'start', { body: stale('starting') });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(withoutUrls(await stack.waitFor(job.id))).toEqual(withoutUrls(done));
    expect(downloadsOf(job.predictionId!)).toEqual([1, 1, 1]);
    expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual(
      [0, 1, 2].map((i) => `outputs/alice/${job.id}/${i}.png`),
    );
  });

  it('a webhook that arrives before submit has recorded the prediction id still finds its job (job id in the signed body)', async () => {
    const response = await stack.request('/jobs', {
      body: { model: 'a/b', input: { simulate: { webhookBeforeResponse: true, responseDelayMs: 1500 } } },
    });
    expect(response.status).toBe(202);
    // recordPrediction answers with the job as it stands: already finished by the early webhook.
    expect(response.json).toMatchObject({ status: 'succeeded', predictionId: expect.any(String) });
    expect(response.json.outputs).toHaveLength(1);
  });

  it('editing the delivery URL cannot redirect a signed body to another job', async () => {
    const victim = await stack.submit({ model: 'a/b', input: { simulate: { webhooks: false, stepMs: 5000 } } });
    const other = await silentlyCompletedJob();
    const otherPrediction = simulator().predictions.get(other.predictionId!)!;
    // Replay the other job's signed completion to the victim's URL.
    const original = otherPrediction.webhook!;
    otherPrediction.webhook = original.replace(other.id, victim.id);
    const body = JSON.stringify({ ...otherPrediction, webhook: original });
    expect(await simulator().sendWebhook(other.predictionId!, 'completed', { body })).toBe(202);
    otherPrediction.webhook = original;
    expect((await stack.waitFor(other.id)).status).toBe('succeeded');
    const untouched = (await stack.request(`/jobs/${victim.id}`)).json;
    expect(untouched).toMatchObject({ status: 'queued', predictionId: victim.predictionId, outputs: [] });
  });

  it('a late success for a job that already failed is acknowledged and changes nothing', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'boom' } } });
    const failed = await stack.waitFor(job.id);
    expect(failed.status).toBe('failed');
    const prediction = simulator().predictions.get(job.predictionId!)!;
    const late = JSON.stringify({
      ...prediction,
      status: 'succeeded',
      error: null,
      output: `${simulator().url}/files/${prediction.id}/late.png`,
    });
    expect(await simulator().sendWebhook(job.predictionId!, 'completed', { body: late })).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(withoutUrls((await stack.request(`/jobs/${job.id}`)).json)).toEqual(withoutUrls(failed));
    expect(downloadsOf(job.predictionId!)).toEqual([]);
  });

  it('thirty concurrent mixed jobs all end right, each output stored once', async () => {
    const kinds = [
      { simulate: { output: 'images', count: 2 }, expect: 'succeeded', files: 2 },
      { simulate: { output: 'image' }, expect: 'succeeded', files: 1 },
      { simulate: { output: 'object' }, expect: 'succeeded', files: 2 },
      { simulate: { output: 'tokens' }, expect: 'succeeded', files: 0 },
      { simulate: { fail: 'nope' }, expect: 'failed', files: 0 },
      { simulate: { output: 'json' }, expect: 'succeeded', files: 1 },
    ];
    const plan = Array.from({ length: 30 }, (_, i) => kinds[i % kinds.length]);
    const jobs = await Promise.all(
      plan.map((kind, i) => stack.submit({ model: 'a/b', input: { n: i, simulate: kind.simulate } })),
    );
    const done = await Promise.all(jobs.map((job) => stack.waitFor(job.id, undefined, { timeoutMs: 20_000 })));
    done.forEach((job, i) => {
      expect(job.status).toBe(plan[i].expect);
      expect(job.outputs).toHaveLength(plan[i].files);
    });
    for (const job of done) {
      expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toHaveLength(job.outputs.length);
      expect(downloadsOf(job.predictionId!).every((count) => count === 1)).toBe(true);
    }
  });

  it('retries a transient download error (503, then a connection cut mid-file) with backoff', async () => {
    const flaky = await stack.submit({ model: 'a/b', input: { simulate: { flaky: 2, sizeBytes: 50_000 } } });
    const cut = await stack.submit({ model: 'a/b', input: { simulate: { cutAfterBytes: 1000, sizeBytes: 300_000 } } });
    const [a, b] = await Promise.all([stack.waitFor(flaky.id), stack.waitFor(cut.id)]);
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(downloadsOf(flaky.predictionId!)).toEqual([3]);
    expect(downloadsOf(cut.predictionId!)).toEqual([2]);
    const original = simulator().predictions.get(cut.predictionId!)!.output as string;
    const copy = Buffer.from(await (await fetch(b.outputs[0].url)).arrayBuffer());
    expect(copy.equals(simulator().fileBytes(original))).toBe(true);
  });

  it('carries a webhook body too large for SQS through S3, and keeps an output too large for the item in S3', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'tokens', tokens: 40_000 } } });
    const done = await stack.waitFor(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.output).toHaveLength(40_000);
    expect((done.output as string[])[39_999]).toBe(' token39999');
    expect(await storedKeys(stack, 'webhook-bodies/')).not.toHaveLength(0);
    expect(await storedKeys(stack, `results/alice/${job.id}/`)).toEqual([`results/alice/${job.id}/output.json`]);
  });

  it('answers 2xx to an unknown prediction (it goes to the DLQ, not back to Replicate)', async () => {
    const body = JSON.stringify({ id: `unknown-${randomBytes(4).toString('hex')}`, status: 'succeeded' });
    const prediction = simulator().predictions.values().next().value!;
    expect(await simulator().sendWebhook(prediction.id, 'completed', { body })).toBe(202);
  });
});

describe('limits (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ maxOutputBytes: 100_000 });
  });
  afterAll(() => stack.stop());

  it('fails a job whose output is over the size limit with output_too_large, storing nothing', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { sizeBytes: 100_001 } } });
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'output_too_large' }, outputs: [] });
    expect(await storedKeys(stack, `outputs/alice/${job.id}/`)).toEqual([]);
  });

  it('copies a file exactly at the limit', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { sizeBytes: 100_000 } } });
    expect((await stack.waitFor(job.id)).outputs[0].size).toBe(100_000);
  });
});

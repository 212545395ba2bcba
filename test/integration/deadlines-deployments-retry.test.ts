import { startTestStack, type TestStack } from '../support/local-stack';

/** Replicate's own deadline (`Cancel-After`) on every create, jobs on a Replicate deployment, and retrying a job. */
describe('deadlines, deployments and retries', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it("sends the job's remaining time as Cancel-After when it creates the prediction", async () => {
    const job = await stack.submit({ model: 'a/b', input: {}, timeoutSeconds: 120 });
    const create = stack.simulator!.creates.at(-1)!;
    expect(create.path).toBe('/models/a/b/predictions');
    const seconds = Number(/^(\d+)s$/.exec(create.cancelAfter ?? '')?.[1]);
    expect(seconds).toBeGreaterThan(100);
    expect(seconds).toBeLessThanOrEqual(120);
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
  });

  it('a prediction Replicate stops at the deadline fails the job, even with no cancel from us', async () => {
    // A prediction that never starts (one step an hour): the simulator aborts it at its Cancel-After, as Replicate does.
    const job = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 3_600_000 } }, timeoutSeconds: 10 });
    const ended = await stack.waitFor(job.id, undefined, { timeoutMs: 20_000 });
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'prediction_failed' } });
    expect(stack.simulator!.predictions.get(job.predictionId!)!.status).toBe('aborted');
  });

  it('a job on a deployment creates its prediction on the deployments endpoint', async () => {
    const job = await stack.submit({ deployment: 'acme/painter-prod', input: {} });
    expect(stack.simulator!.creates.at(-1)!.path).toBe('/deployments/acme/painter-prod/predictions');
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'succeeded', deployment: 'acme/painter-prod', model: '' });
  });

  it('refuses a deployment together with a model, and a malformed deployment', async () => {
    const both = await stack.request('/jobs', { body: { deployment: 'acme/x', model: 'a/b', input: {} } });
    expect(both).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    expect(both.json.error.details[0].path).toBe('deployment');
    const bad = await stack.request('/jobs', { body: { deployment: '../x', input: {} } });
    expect(bad.status).toBe(422);
  });

  it('retries a failed job as a new job with the same request and retryOf; Idempotency-Key makes the retry safe to repeat', async () => {
    const failed = await stack.submit({
      model: 'a/b',
      input: { prompt: 'x', simulate: { fail: 'CUDA out of memory' } },
      metadata: { user: 7 },
      derivatives: [{ format: 'webp' }],
    });
    expect((await stack.waitFor(failed.id)).status).toBe('failed');
    const retried = await stack.request(`/jobs/${failed.id}/retry`, {
      method: 'POST',
      headers: { 'idempotency-key': 'r-1' },
    });
    expect(retried.status).toBe(202);
    expect(retried.headers.get('location')).toBe(`/jobs/${retried.json.id}`);
    expect(retried.json).toMatchObject({ retryOf: failed.id, model: 'a/b', metadata: { user: 7 } });
    expect(retried.json.id).not.toBe(failed.id);
    const again = await stack.request(`/jobs/${failed.id}/retry`, {
      method: 'POST',
      headers: { 'idempotency-key': 'r-1' },
    });
    expect(again.json.id).toBe(retried.json.id);
    const prediction = stack.simulator!.predictions.get(retried.json.predictionId)!;
    expect(prediction.input).toEqual({ prompt: 'x', simulate: { fail: 'CUDA out of memory' } });
  });

  it('refuses to retry a job that succeeded or still runs (409 job_not_retryable), and another owner’s (404)', async () => {
    const ok = await stack.submit({ model: 'a/b', input: {} });
    await stack.waitFor(ok.id);
    const refused = await stack.request(`/jobs/${ok.id}/retry`, { method: 'POST' });
    expect(refused).toMatchObject({
      status: 409,
      json: { error: { code: 'job_not_retryable', details: { status: 'succeeded' } } },
    });
    expect((await stack.request(`/jobs/${ok.id}/retry`, { method: 'POST', key: 'key-bob' })).status).toBe(404);
  });

  it('Prefer: wait=10 answers 200 with the finished job, outputs stored; a job that takes longer answers 202', async () => {
    const fast = await stack.request('/jobs', {
      body: { model: 'a/b', input: { simulate: { output: 'images', count: 1 } } },
      headers: { prefer: 'wait=10' },
    });
    expect(fast.status).toBe(200);
    expect(fast.headers.get('preference-applied')).toBe('wait=10');
    expect(fast.json).toMatchObject({ status: 'succeeded', outputs: [{ url: expect.stringMatching(/^http/) }] });
    // Presigned by the submit function, which may read the outputs (it could not, and the URL was refused).
    expect((await fetch(fast.json.outputs[0].url)).status).toBe(200);
    const slow = await stack.request('/jobs', {
      body: { model: 'a/b', input: { simulate: { stepMs: 3_600_000 } } },
      headers: { prefer: 'wait=1' },
    });
    expect(slow.status).toBe(202);
    expect(slow.json.status).not.toBe('succeeded');
    await stack.request(`/jobs/${slow.json.id}/cancel`, { method: 'POST' });
  });
});

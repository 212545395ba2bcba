import { hashJson, idempotentJobId } from '../../lambdas/core/ids';
import { ROUTES } from '../../lambdas/routes';
import { reconcile } from '../../lambdas/use-cases/reconcile';
import { eventually, startTestStack, type TestStack, withoutUrls } from '../support/local-stack';

/** The stack keeps itself healthy: polling for lost webhooks, timeouts, cancel, listing, metrics. */
describe('reconciler (local stack, on its timer)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ reconcileIntervalSeconds: 0.25, env: { RECONCILE_AFTER_SECONDS: '0.5' } });
  });
  afterAll(() => stack.stop());

  it('a job whose webhooks never arrive still reaches succeeded, outputs stored, through polling', async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { webhooks: false, output: 'images', count: 2 } },
    });
    const done = await stack.waitFor(job.id);
    expect(done).toMatchObject({ status: 'succeeded', error: null });
    expect(done.outputs).toHaveLength(2);
    expect(stack.simulator!.deliveries.filter((d) => d.predictionId === job.predictionId)).toEqual([]);
    expect(stack.metrics.get('Reconciled')).toBeGreaterThanOrEqual(1);
  });

  it('polls through transient Replicate errors (retried reads)', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { webhooks: false, getFailures: 2 } } });
    expect((await stack.waitFor(job.id)).status).toBe('succeeded');
  });
});

describe('timeouts, cancel and listing (local stack)', () => {
  let stack: TestStack;
  let offsetMs = 0;
  const STUCK = { webhooks: false, stepMs: 3_600_000 };
  beforeAll(async () => {
    stack = await startTestStack({
      reconcileIntervalSeconds: 0,
      env: { JOB_TIMEOUT_SECONDS: '600', RECONCILE_AFTER_SECONDS: '30' },
    });
    stack.deps.clock = () => new Date(Date.now() + offsetMs);
  });
  afterAll(() => stack.stop());
  afterEach(() => {
    offsetMs = 0;
  });
  const runReconciler = () => reconcile(stack.deps);

  it('times out a stuck job: cancels it at Replicate, fails it with `timeout`; a late success changes nothing', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: STUCK } });
    offsetMs = 60_000; // quiet for a minute: polled, still running, left alone
    expect(await runReconciler()).toMatchObject({ polled: 1, timedOut: 0 });
    // The poll found `starting` and fed it through the queue: wait for it before moving the clock on.
    await stack.waitFor(job.id, (view) => view.status === 'starting');
    offsetMs = 601_000; // past the default timeout
    expect(await runReconciler()).toMatchObject({ timedOut: 1 });
    const failed = (await stack.request(`/jobs/${job.id}`)).json;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
    expect(prediction.status).toBe('canceled');
    expect(stack.metrics.get('JobsTimedOut')).toBe(1);
    expect(stack.metrics.get('JobsFailed{code=timeout}')).toBe(1);

    offsetMs = 0; // back to real time: webhooks are verified against the clock (±5 min)
    const late = JSON.stringify({
      ...prediction,
      status: 'succeeded',
      output: `${stack.simulator!.url}/files/${prediction.id}/x.png`,
    });
    expect(await stack.simulator!.sendWebhook(prediction.id, 'completed', { body: late })).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(withoutUrls((await stack.request(`/jobs/${job.id}`)).json)).toEqual(withoutUrls(failed));
  });

  it('honours a per-job timeoutSeconds', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: STUCK }, timeoutSeconds: 45 });
    offsetMs = 46_000;
    await runReconciler();
    expect((await stack.request(`/jobs/${job.id}`)).json).toMatchObject({
      status: 'failed',
      error: { code: 'timeout', message: expect.stringContaining('45 s') },
    });
    offsetMs = 0;
  });

  it('fails a job whose submit died before calling Replicate, and the Idempotency-Key retry then submits it', async () => {
    const body = { model: 'a/b', input: { prompt: 'x' } };
    // What a submit that died right after writing the job leaves: a queued job without a prediction.
    const now = new Date().toISOString();
    const request = {
      model: 'a/b',
      version: undefined,
      input: body.input,
      metadata: undefined,
      webhookEvents: ['completed'],
      timeoutSeconds: undefined,
    };
    const id = idempotentJobId('alice', 'crashed-submit');
    await stack.deps.jobs.create({
      id,
      owner: 'alice',
      status: 'queued',
      rank: 0,
      model: 'a/b',
      input: body.input,
      webhookEvents: ['completed'],
      outputs: [],
      error: null,
      requestHash: hashJson(request),
      idempotencyKey: 'crashed-submit',
      createdAt: now,
      updatedAt: now,
    });
    expect((await stack.submit(body, { headers: { 'idempotency-key': 'crashed-submit' } })).status).toBe('queued'); // still within grace
    offsetMs = 301_000;
    expect(await runReconciler()).toMatchObject({ abandoned: 1 });
    offsetMs = 0;
    expect((await stack.request(`/jobs/${id}`)).json).toMatchObject({
      status: 'failed',
      error: { code: 'submit_failed' },
    });
    const retried = await stack.submit(body, { headers: { 'idempotency-key': 'crashed-submit' } });
    expect(retried).toMatchObject({ id, predictionId: expect.any(String) });
    expect((await stack.waitFor(id)).status).toBe('succeeded');
  });

  describe('POST /jobs/{id}/cancel', () => {
    it('cancels at Replicate and marks the job canceled; again answers the same; a late webhook changes nothing', async () => {
      const job = await stack.submit({ model: 'a/b', input: { simulate: STUCK } });
      const first = await stack.request(`/jobs/${job.id}/cancel`, { method: 'POST' });
      expect(first).toMatchObject({
        status: 200,
        json: { status: 'canceled', error: { code: 'prediction_canceled' } },
      });
      expect(stack.simulator!.predictions.get(job.predictionId!)!.status).toBe('canceled');
      const again = await stack.request(`/jobs/${job.id}/cancel`, { method: 'POST' });
      expect(again.status).toBe(200);
      expect(withoutUrls(again.json)).toEqual(withoutUrls(first.json));
      const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
      await stack.simulator!.sendWebhook(prediction.id, 'completed', {
        body: JSON.stringify({ ...prediction, status: 'succeeded' }),
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await stack.request(`/jobs/${job.id}`)).json.status).toBe('canceled');
    });

    it("answers 409 for a job that already succeeded, and 404 for another owner's job", async () => {
      const job = await stack.submit({ model: 'a/b', input: {} });
      await stack.waitFor(job.id);
      expect(await stack.request(`/jobs/${job.id}/cancel`, { method: 'POST' })).toMatchObject({
        status: 409,
        json: { error: { code: 'job_already_finished' } },
      });
      const running = await stack.submit({ model: 'a/b', input: { simulate: STUCK } });
      expect((await stack.request(`/jobs/${running.id}/cancel`, { method: 'POST', key: 'key-bob' })).status).toBe(404);
      expect(stack.simulator!.predictions.get(running.predictionId!)!.status).not.toBe('canceled');
    });
  });

  describe('GET /jobs', () => {
    let carolIds: string[] = [];
    beforeAll(async () => {
      carolIds = [];
      for (let i = 0; i < 5; i++) {
        const job = await stack.submit(
          { model: 'a/b', input: { i, simulate: i % 2 ? { fail: 'x' } : {} } },
          { key: 'key-bob' },
        );
        carolIds.push(job.id);
        await new Promise((resolve) => setTimeout(resolve, 5)); // distinct createdAt
      }
      await Promise.all(carolIds.map((id) => stack.waitFor(id, undefined, { key: 'key-bob' })));
    });

    it("lists the owner's jobs newest first, paginated by cursor", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; json: any } = await stack.request(
          `/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { key: 'key-bob' },
        );
        expect(page.status).toBe(200);
        expect(page.json.jobs.length).toBeLessThanOrEqual(2);
        seen.push(...page.json.jobs.map((job: any) => job.id));
        cursor = page.json.nextCursor;
      } while (cursor);
      const bobs = seen.filter((id) => carolIds.includes(id));
      expect(bobs).toEqual([...carolIds].reverse());
    });

    it('filters by status', async () => {
      const failed = (await stack.request('/jobs?status=failed&limit=100', { key: 'key-bob' })).json.jobs;
      expect(failed.map((job: any) => job.id).sort()).toEqual([carolIds[1], carolIds[3]].sort());
      expect(failed.every((job: any) => job.status === 'failed')).toBe(true);
    });

    it("never shows another owner's jobs, nor lets a cursor page them", async () => {
      const alice = (await stack.request('/jobs?limit=100')).json.jobs.map((job: any) => job.id);
      expect(alice.some((id: string) => carolIds.includes(id))).toBe(false);
      const bobPage = (await stack.request('/jobs?limit=1', { key: 'key-bob' })).json;
      expect(await stack.request(`/jobs?cursor=${bobPage.nextCursor}`)).toMatchObject({
        status: 400,
        json: { error: { code: 'invalid_query' } },
      });
    });

    // Cursors that decode to the caller's owner but carry an empty, foreign or odd key: each reached DynamoDB (a 500).
    const forged = (key: object) =>
      `cursor=${Buffer.from(JSON.stringify({ owner: 'alice', ...key })).toString('base64url')}`;
    it.each([
      'limit=0',
      'limit=101',
      'limit=abc',
      'status=done',
      'cursor=%%%',
      'sort=asc',
      forged({ id: '', createdAt: '' }),
      forged({ id: 'job_x', createdAt: '2026-01-01T00:00:00.000Z' }),
      forged({ id: 'job_0000000000000000000000000a', createdAt: 'yesterday' }),
      forged({ id: 'job_0000000000000000000000000a', createdAt: '' }),
    ])('refuses ?%s with 400 invalid_query', async (query) => {
      expect(await stack.request(`/jobs?${query}`)).toMatchObject({
        status: 400,
        json: { error: { code: 'invalid_query' } },
      });
    });
  });

  it('emits the job metrics', () => {
    expect(stack.metrics.get('JobsSubmitted')).toBeGreaterThan(5);
    expect(stack.metrics.get('JobsSucceeded')).toBeGreaterThan(1);
    expect(stack.metrics.get('JobsFailed{code=prediction_failed}')).toBe(2);
    expect(stack.metrics.get('JobsCanceled')).toBe(1);
  });

  it('routes cancel and list through the shared table', () => {
    expect(ROUTES.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(['GET /jobs', 'POST /jobs/{id}/cancel']),
    );
  });
});

describe('npm start live view', () => {
  it('prints one line per status change of each job', async () => {
    const lines: string[] = [];
    const stack = await startTestStack({ progress: (line) => lines.push(line) });
    try {
      const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } });
      await stack.waitFor(job.id);
      await eventually(() => lines.some((line) => line.includes('succeeded')));
      const last = lines.filter((line) => line.startsWith(job.id)).pop()!;
      expect(last).toMatch(
        new RegExp(`^${job.id} alice  queued( → starting)?( → processing)? → succeeded  2 outputs, \\d+\\.\\d s$`),
      );
    } finally {
      await stack.stop();
    }
  });
});

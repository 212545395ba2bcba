import type { Job } from '../../lambdas/core/job';
import { JOB_STATUSES } from '../../lambdas/core/job';
import { expiryOf, jobViewSchema, toJobView } from '../../lambdas/core/job-view';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:00:09.000Z';

/** A job as stored, with internal fields a client must never see. */
const stored = (overrides: Partial<Job> = {}): Job => ({
  id: 'job_1',
  owner: 'alice',
  status: 'queued',
  rank: 0,
  model: 'a/b',
  input: { prompt: 'x' },
  webhookEvents: ['completed'],
  outputs: [],
  error: null,
  requestHash: 'hash',
  idempotencyKey: 'order-42',
  createdAt: T0,
  updatedAt: T0,
  ...overrides,
});

const succeeded = stored({
  status: 'succeeded',
  rank: 3,
  version: 'v'.repeat(64),
  predictionId: 'p1',
  metadata: { user: 7 },
  output: { images: ['https://replicate.delivery/x/0.png', 'https://replicate.delivery/x/1.png'], seed: 3 },
  outputs: [
    { index: 0, key: 'outputs/alice/job_1/0.png', contentType: 'image/png', size: 10 },
    { index: 1, key: 'outputs/alice/job_1/1.png', contentType: 'image/png', size: 20 },
  ],
  metrics: { predict_time: 1.5 },
  callbackUrl: 'https://app.example/hook',
  callbackDeliveries: [{ at: T1, attempt: 1, status: 500, error: 'Internal Server Error' }],
  startedAt: T0,
  completedAt: T1,
  updatedAt: T1,
});
const urls = ['https://bucket/0?sig', 'https://bucket/1?sig'];

describe('job view (the API contract)', () => {
  it('shows a succeeded job with our copies in place of Replicate’s files, and nothing internal', () => {
    expect(toJobView(succeeded, urls)).toEqual({
      id: 'job_1',
      status: 'succeeded',
      model: 'a/b',
      version: 'v'.repeat(64),
      deployment: null,
      retryOf: null,
      predictionId: 'p1',
      metadata: { user: 7 },
      outputs: [
        { key: 'outputs/alice/job_1/0.png', url: urls[0], contentType: 'image/png', size: 10 },
        { key: 'outputs/alice/job_1/1.png', url: urls[1], contentType: 'image/png', size: 20 },
      ],
      output: { images: urls, seed: 3 },
      partialOutput: null,
      error: null,
      callback: {
        url: 'https://app.example/hook',
        deliveries: [{ at: T1, attempt: 1, status: 500, error: 'Internal Server Error' }],
      },
      metrics: { predict_time: 1.5 },
      createdAt: T0,
      updatedAt: T1,
      startedAt: T0,
      waitingSince: null,
      completedAt: T1,
      retentionDays: null,
      outputsExpireAt: null,
    });
  });

  it('shows absent fields as null, and no output before the job has succeeded, even one its record holds (nothing is copied yet)', () => {
    expect(
      toJobView(stored({ status: 'processing', rank: 2, output: 'https://replicate.delivery/x/0.png' }), [
        'https://bucket/0?sig',
      ]),
    ).toEqual({
      id: 'job_1',
      status: 'processing',
      model: 'a/b',
      version: null,
      deployment: null,
      retryOf: null,
      predictionId: null,
      metadata: null,
      outputs: [],
      output: null,
      partialOutput: null,
      error: null,
      callback: null,
      metrics: null,
      createdAt: T0,
      updatedAt: T0,
      startedAt: null,
      waitingSince: null,
      completedAt: null,
      retentionDays: null,
      outputsExpireAt: null,
    });
  });

  it('shows a running job its partial output, and never an ended one (its output replaces it)', () => {
    const running = stored({ status: 'processing', rank: 2, partialOutput: ['Hel', 'lo'], partialOutputSize: 12 });
    expect(toJobView(running, [])).toMatchObject({ partialOutput: ['Hel', 'lo'], output: null });
    expect(toJobView({ ...running, status: 'failed', rank: 3 }, []).partialOutput).toBeNull();
    expect(JSON.stringify(toJobView(running, []))).not.toContain('partialOutputSize');
  });

  it('shows when the outputs expire: the shorter of the job’s retentionDays and the deployment’s, at the next midnight UTC', () => {
    const job = { ...succeeded, completedAt: '2026-11-30T10:15:00.000Z', retentionDays: 7 };
    expect(toJobView(job, urls, { outputRetentionDays: 30 })).toMatchObject({
      retentionDays: 7,
      outputsExpireAt: '2026-12-08T00:00:00.000Z',
    });
    expect(toJobView(job, urls, { outputRetentionDays: 3 })).toMatchObject({ retentionDays: 3 });
    expect(expiryOf('2026-11-30T00:00:00.000Z', 1)).toBe('2026-12-01T00:00:00.000Z');
    expect(toJobView({ ...job, status: 'processing', rank: 2 }, []).outputsExpireAt).toBeNull();
  });

  it('lists each output’s variants with their URLs, and a variant that failed with its error', () => {
    const job = {
      ...succeeded,
      outputs: [
        {
          ...succeeded.outputs[0],
          variants: [
            { format: 'webp' as const, key: 'k.webp', contentType: 'image/webp', size: 5, width: 3, height: 2 },
            { format: 'avif' as const, error: { code: 'too_many_pixels' as const, message: 'm' } },
          ],
        },
        succeeded.outputs[1],
      ],
    };
    const view = toJobView(job, urls, { variantUrls: [['https://bucket/k.webp?sig', ''], []] });
    expect(view.outputs[0].variants).toEqual([
      {
        format: 'webp',
        width: 3,
        height: 2,
        key: 'k.webp',
        url: 'https://bucket/k.webp?sig',
        contentType: 'image/webp',
        size: 5,
      },
      { format: 'avif', error: { code: 'too_many_pixels', message: 'm' } },
    ]);
    expect(view.outputs[1]).not.toHaveProperty('variants');
    expect(jobViewSchema().safeParse(view).success).toBe(true);
  });

  it('shows a callback not yet delivered with an empty log, and a failed job’s error', () => {
    const view = toJobView(
      stored({
        status: 'failed',
        rank: 3,
        callbackUrl: 'https://app.example/hook',
        error: { code: 'timeout', message: 'Too slow' },
      }),
      [],
    );
    expect(view.callback).toEqual({ url: 'https://app.example/hook', deliveries: [] });
    expect(view.error).toEqual({ code: 'timeout', message: 'Too slow' });
  });

  it('shows a succeeded text output as it is, and a file it could not find a copy for as null', () => {
    expect(toJobView(stored({ status: 'succeeded', rank: 3, output: ['Hello', ' world'] }), []).output).toEqual([
      'Hello',
      ' world',
    ]);
    expect(
      toJobView(stored({ status: 'succeeded', rank: 3, output: 'https://replicate.delivery/x/0.png' }), []).output,
    ).toBeNull();
    expect(toJobView(stored({ status: 'succeeded', rank: 3 }), []).output).toBeNull();
  });
});

describe('job view schema (the OpenAPI document’s)', () => {
  const schema = jobViewSchema();

  it('describes exactly what toJobView returns: every field kept, whatever the status', () => {
    const views = [
      toJobView(succeeded, urls),
      ...JOB_STATUSES.map((status) => toJobView(stored({ status, error: { code: 'timeout', message: 'm' } }), [])),
    ];
    for (const view of views) expect(schema.parse(view)).toEqual(view);
  });

  it.each([
    ['an unknown status', { status: 'exploded' }],
    ['a missing id', { id: undefined }],
    ['an output without its size', { outputs: [{ key: 'k', url: 'u', contentType: 'image/png' }] }],
    ['a delivery without its attempt', { callback: { url: 'u', deliveries: [{ at: T1, status: 200 }] } }],
    ['an error without its message', { error: { code: 'timeout' } }],
    ['a date that is not text', { createdAt: 0 }],
  ])('refuses %s', (_name, change) => {
    expect(schema.safeParse({ ...toJobView(succeeded, urls), ...change }).success).toBe(false);
  });
});

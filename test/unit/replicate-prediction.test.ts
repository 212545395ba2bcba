import { InvalidRequest, LimitExceeded, NotFound } from '../../lambdas/core/errors';
import { apiBaseUrlOf, JOB_STATUSES, type JobStatus } from '../../lambdas/core/job';
import { toJobView } from '../../lambdas/core/job-view';
import { predictionJobSpec, toPrediction } from '../../lambdas/core/replicate-prediction';
import { errorResponse } from '../../lambdas/http/responses';
import { storedJob } from '../support/records';

const VERSION = 'b'.repeat(64);
const now = new Date('2026-11-30T12:00:00.000Z');
const BASE = 'https://api.example/v1';

/** The refusal `predictionJobSpec` throws for this body, or undefined. */
function refusalOf(body: unknown, target: Parameters<typeof predictionJobSpec>[1] = { kind: 'version' }) {
  try {
    predictionJobSpec(body, target, { callbackHttpsOnly: true });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return error as InvalidRequest;
  }
}

describe("a /v1 create body (Replicate's) read into a job spec", () => {
  const version = { kind: 'version' } as const;

  it('takes a version id, owner/name:<version> or owner/name on POST /v1/predictions', () => {
    expect(predictionJobSpec({ version: VERSION, input: {} }, version)).toMatchObject({ model: '', version: VERSION });
    expect(predictionJobSpec({ version: `acme/flux:${VERSION}`, input: {} }, version)).toMatchObject({
      model: 'acme/flux',
      version: VERSION,
    });
    expect(predictionJobSpec({ version: 'acme/flux', input: {} }, version)).toMatchObject({ model: 'acme/flux' });
  });

  it('takes the model or deployment from the path on the other creates', () => {
    const model = { kind: 'model', owner: 'acme', name: 'flux' } as const;
    expect(predictionJobSpec({ input: { a: 1 } }, model)).toMatchObject({ model: 'acme/flux', input: { a: 1 } });
    expect(predictionJobSpec({ input: {}, version: VERSION }, model)).toMatchObject({ version: VERSION });
    // A version that is no version id is not pinned on a model's route.
    expect(predictionJobSpec({ input: {}, version: 'latest' }, model).version).toBeUndefined();
    const deployment = { kind: 'deployment', owner: 'acme', name: 'prod' } as const;
    expect(predictionJobSpec({ input: {} }, deployment)).toMatchObject({ model: '', deployment: 'acme/prod' });
  });

  it("delivers the webhook at the end unless the filter leaves `completed` out, and asks Replicate for the filter's events", () => {
    const hook = 'https://app.example/hooks';
    expect(predictionJobSpec({ version: VERSION, input: {}, webhook: hook }, version)).toMatchObject({
      callbackUrl: hook,
      callbackShape: 'prediction',
      webhookEvents: ['completed'],
    });
    const filtered = predictionJobSpec(
      { version: VERSION, input: {}, webhook: hook, webhook_events_filter: ['output', 'completed'] },
      version,
    );
    expect(filtered).toMatchObject({ callbackUrl: hook, webhookEvents: ['output', 'completed'] });
    const startOnly = predictionJobSpec(
      { version: VERSION, input: {}, webhook: hook, webhook_events_filter: ['start'] },
      version,
    );
    expect(startOnly.callbackUrl).toBeUndefined();
    expect(startOnly.callbackShape).toBeUndefined();
    expect(startOnly.webhookEvents).toEqual(['start', 'completed']);
    expect(predictionJobSpec({ version: VERSION, input: {} }, version).callbackShape).toBeUndefined();
  });

  it('ignores `stream` and fields Replicate does not define, and takes null for an absent field, as Replicate does', () => {
    const spec = predictionJobSpec({ version: VERSION, input: {}, stream: true, priority: 'high' }, version);
    expect(spec).not.toHaveProperty('stream');
    expect(spec).not.toHaveProperty('priority');
    const nulls = { version: VERSION, input: {}, webhook: null, webhook_events_filter: null, stream: null };
    expect(predictionJobSpec(nulls, version)).toMatchObject({ callbackUrl: undefined, webhookEvents: ['completed'] });
  });

  it('takes an https webhook in any case of its scheme where https is required', () => {
    const spec = predictionJobSpec({ version: VERSION, input: {}, webhook: 'HTTPS://app.example/h' }, version, {
      callbackHttpsOnly: true,
    });
    expect(spec.callbackUrl).toBe('HTTPS://app.example/h');
  });

  it.each([
    ['no version', { input: {} }, 'version'],
    ['a version that is no model', { version: 'not a model', input: {} }, 'version'],
    ['no input', { version: VERSION }, 'input'],
    [
      'an http webhook where https is required',
      { version: VERSION, input: {}, webhook: 'http://a.example/' },
      'webhook',
    ],
    ['a webhook that is no URL', { version: VERSION, input: {}, webhook: 'hooks' }, 'webhook'],
    [
      'a webhook that is no URL, even one never delivered',
      { version: VERSION, input: {}, webhook: 'hooks', webhook_events_filter: ['start'] },
      'webhook',
    ],
    ['an unknown event', { version: VERSION, input: {}, webhook_events_filter: ['done'] }, 'webhook_events_filter.0'],
  ])("refuses %s with validation_failed naming Replicate's field", (_name, body, path) => {
    const refused = refusalOf(body);
    expect(refused?.code).toBe('validation_failed');
    expect(refused?.details).toEqual([expect.objectContaining({ path })]);
  });

  it('names a bad model in the path as model, not version', () => {
    expect(refusalOf({ input: {} }, { kind: 'model', owner: 'acme', name: 'no model' })?.details).toEqual([
      expect.objectContaining({ path: 'model' }),
    ]);
  });
});

describe("a job as Replicate's prediction object", () => {
  const jobIn = (status: JobStatus) =>
    storedJob({
      status,
      version: VERSION,
      input: { prompt: 'x' },
      output: 'https://replicate.delivery/out.png',
      outputs:
        status === 'succeeded' ? [{ index: 0, key: 'outputs/o/j/0.png', contentType: 'image/png', size: 3 }] : [],
      partialOutput: status === 'processing' ? ['so', 'far'] : undefined,
      metrics: { predict_time: 1.5 },
      startedAt: '2026-11-30T10:00:01.000Z',
      webhookUrl: `${BASE}/webhooks/replicate?job=x`,
    });
  const predictionOf = (status: JobStatus, afterWait = false) => {
    const job = jobIn(status);
    return toPrediction(job, toJobView(job, ['https://bucket.example/0.png?sig']), BASE, { now, afterWait });
  };

  it("maps every status: queued is starting; a held create's unfinished answer is starting", () => {
    const statuses = JOB_STATUSES.map((status) => [
      status,
      predictionOf(status).status,
      predictionOf(status, true).status,
    ]);
    expect(statuses).toEqual([
      ['queued', 'starting', 'starting'],
      ['starting', 'starting', 'starting'],
      ['processing', 'processing', 'starting'],
      ['succeeded', 'succeeded', 'succeeded'],
      ['failed', 'failed', 'failed'],
      ['canceled', 'canceled', 'canceled'],
    ]);
  });

  it('shows our copies once succeeded, the output so far while it runs, and links back to us', () => {
    const done = predictionOf('succeeded');
    expect(done).toMatchObject({
      output: 'https://bucket.example/0.png?sig',
      input: { prompt: 'x' },
      version: VERSION,
      metrics: { predict_time: 1.5 },
      logs: null,
      error: null,
      source: 'api',
      data_removed: false,
      urls: { get: `${BASE}/v1/predictions/${done.id}`, cancel: `${BASE}/v1/predictions/${done.id}/cancel` },
    });
    expect(predictionOf('processing').output).toEqual(['so', 'far']);
    expect(predictionOf('queued').output).toBeNull();
  });

  it("tells a failure's message as Replicate's error string; a canceled prediction has none, as Replicate writes it", () => {
    const job = storedJob({ status: 'failed', error: { code: 'prediction_failed', message: 'CUDA out of memory' } });
    expect(toPrediction(job, toJobView(job, []), BASE, { now }).error).toBe('CUDA out of memory');
    const canceled = storedJob({ status: 'canceled', error: { code: 'prediction_canceled', message: 'Canceled' } });
    expect(toPrediction(canceled, toJobView(canceled, []), BASE, { now }).error).toBeNull();
  });

  it('says data_removed once the outputs are past their retention', () => {
    const job = { ...jobIn('succeeded'), retentionDays: 1, completedAt: '2026-11-28T10:00:00.000Z' };
    const view = toJobView(job, ['https://bucket.example/0.png?sig']);
    expect(view.outputsExpireAt).toBe('2026-11-30T00:00:00.000Z');
    expect(toPrediction(job, view, BASE, { now }).data_removed).toBe(true);
    expect(toPrediction(job, view, BASE, { now: new Date('2026-11-29T23:59:59.000Z') }).data_removed).toBe(false);
    expect(predictionOf('succeeded').data_removed).toBe(false); // kept until deleted
  });

  it('finds the base URL a job was submitted under from its webhook URL', () => {
    expect(apiBaseUrlOf({ webhookUrl: `${BASE}/webhooks/replicate?job=job_1` })).toBe(BASE);
  });
});

describe("errors in Replicate's shape", () => {
  it('writes title, detail and status, with our code, details and Retry-After beside', () => {
    const limited = errorResponse(
      new LimitExceeded('owner_limit_exceeded', 'Too many jobs per day', { limit: 'daily' }, 60),
      'replicate',
    );
    expect(limited).toMatchObject({ statusCode: 429, headers: { 'retry-after': '60' } });
    expect(JSON.parse(limited.body)).toEqual({
      title: 'Owner limit exceeded',
      detail: 'Too many jobs per day',
      status: 429,
      code: 'owner_limit_exceeded',
      details: { limit: 'daily' },
    });
    expect(JSON.parse(errorResponse(new NotFound('No such job'), 'replicate').body)).toEqual({
      title: 'Not found',
      detail: 'No such job',
      status: 404,
      code: 'not_found',
    });
    // Ours elsewhere; a failure that is no refusal leaks nothing in either.
    expect(JSON.parse(errorResponse(new NotFound('No such job')).body)).toEqual({
      error: { code: 'not_found', message: 'No such job' },
    });
    expect(JSON.parse(errorResponse(new Error('secret'), 'replicate').body).detail).not.toMatch(/secret/);
  });
});

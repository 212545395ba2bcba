import {
  jobIdFromWebhookUrl,
  jobStatusOf,
  type Prediction,
  PredictionSchema,
  predictionErrorMessage,
} from '../../lambdas/core/prediction';

const failed = (error: unknown, status = 'failed'): Prediction => ({ id: 'p1', status, error });

describe('Replicate prediction bodies', () => {
  const full = {
    id: 'p1',
    status: 'succeeded',
    output: ['https://replicate.delivery/x/0.png'],
    error: null,
    logs: 'step 1\n',
    metrics: { predict_time: 1.2 },
    created_at: '2026-01-01T00:00:00Z',
    started_at: '2026-01-01T00:00:01Z',
    completed_at: '2026-01-01T00:00:02Z',
    webhook: 'https://api.example/webhooks/replicate?job=job_1',
    urls: { get: 'https://api.replicate.com/v1/predictions/p1' }, // a field we do not read
  };

  it('keeps what we read and passes fields Replicate adds through', () => {
    expect(PredictionSchema.parse(full)).toEqual(full);
    expect(PredictionSchema.parse({ id: 'p1', status: 'starting', logs: null, metrics: null, webhook: null })).toEqual({
      id: 'p1',
      status: 'starting',
      logs: null,
      metrics: null,
      webhook: null,
    });
  });

  it.each([
    ['no id', { status: 'starting' }],
    ['an empty id', { id: '', status: 'starting' }],
    ['an id over 128 characters', { id: 'p'.repeat(129), status: 'starting' }],
    ['no status', { id: 'p1' }],
    ['a status over 32 characters', { id: 'p1', status: 's'.repeat(33) }],
    ['metrics that are not an object', { id: 'p1', status: 'starting', metrics: 5 }],
    ['a webhook that is not text', { id: 'p1', status: 'starting', webhook: 5 }],
    ['a started_at that is not text', { id: 'p1', status: 'starting', started_at: 5 }],
    ['a completed_at that is not text', { id: 'p1', status: 'starting', completed_at: 5 }],
    ['logs that are not text', { id: 'p1', status: 'starting', logs: ['a'] }],
    ['a created_at that is not text', { id: 'p1', status: 'starting', created_at: {} }],
  ])('refuses a body with %s (a signed body is still input)', (_name, body) => {
    expect(PredictionSchema.safeParse(body).success).toBe(false);
  });

  it('accepts the longest id and status it allows', () => {
    expect(PredictionSchema.safeParse({ id: 'p'.repeat(128), status: 's'.repeat(32) }).success).toBe(true);
  });
});

describe('Replicate statuses', () => {
  it.each([
    ['starting', 'starting'],
    ['processing', 'processing'],
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['canceled', 'canceled'],
    ['aborted', 'failed'], // terminated before it started
    ['queued', undefined],
    ['toString', undefined], // no Object.prototype member is a status
    ['', undefined],
  ])('%j → %s', (status, expected) => {
    expect(jobStatusOf({ status })).toBe(expected);
  });
});

describe('prediction error messages', () => {
  it('keeps a text error as Replicate wrote it, and an object error as JSON', () => {
    expect(predictionErrorMessage(failed('CUDA out of memory'))).toBe('CUDA out of memory');
    expect(predictionErrorMessage(failed({ detail: 'bad input', code: 7 }))).toBe('{"detail":"bad input","code":7}');
    expect(predictionErrorMessage(failed(0))).toBe('0');
    expect(predictionErrorMessage(failed(false))).toBe('false');
  });

  it('bounds the message at 2000 characters (it is stored in the job item and shown in every view)', () => {
    expect(predictionErrorMessage(failed('e'.repeat(5000)))).toBe('e'.repeat(2000));
    expect(predictionErrorMessage(failed({ trace: 't'.repeat(5000) }))).toHaveLength(2000);
  });

  it('says what happened when Replicate gave no error', () => {
    expect(predictionErrorMessage(failed(null))).toBe('The prediction failed');
    expect(predictionErrorMessage(failed(undefined))).toBe('The prediction failed');
    expect(predictionErrorMessage(failed(''))).toBe('The prediction failed');
    expect(predictionErrorMessage(failed(null, 'aborted'))).toBe('The prediction was aborted before it started');
    expect(predictionErrorMessage(failed('OOM', 'aborted'))).toBe('OOM');
  });
});

describe('job id from the signed webhook URL', () => {
  it.each([
    ['https://api.example/webhooks/replicate?job=job_1', 'job_1'],
    ['https://api.example/webhooks/replicate?x=1&job=job_2', 'job_2'],
    ['https://api.example/webhooks/replicate', undefined],
    ['https://api.example/webhooks/replicate?jobs=job_1', undefined],
    ['not a url?job=job_1', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %s', (webhook, expected) => {
    expect(jobIdFromWebhookUrl(webhook)).toBe(expected);
  });
});

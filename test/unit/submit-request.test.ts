import { InvalidRequest } from '../../lambdas/core/errors';
import { MAX_SUBMIT_BODY_BYTES } from '../../lambdas/core/limits';
import { preferredWaitSeconds } from '../../lambdas/core/prefer-wait';
import { depthOf, parseSubmitRequest } from '../../lambdas/core/submit-request';
import { API_ERRORS } from '../../lambdas/http/error-status';

const VERSION = 'a'.repeat(64);
const errorOf = (body: string): InvalidRequest => {
  try {
    parseSubmitRequest(body);
  } catch (error) {
    return error as InvalidRequest;
  }
  throw new Error('expected a validation error');
};

describe('submit request validation', () => {
  it('accepts a model name and resolves defaults', () => {
    expect(
      parseSubmitRequest(JSON.stringify({ model: 'black-forest-labs/flux-schnell', input: { prompt: 'x' } })),
    ).toEqual({
      model: 'black-forest-labs/flux-schnell',
      version: undefined,
      input: { prompt: 'x' },
      metadata: undefined,
      webhookEvents: ['completed'],
    });
  });

  it('splits owner/name:version and accepts a bare version', () => {
    expect(parseSubmitRequest(JSON.stringify({ model: `a/b:${VERSION}`, input: {} }))).toMatchObject({
      model: 'a/b',
      version: VERSION,
    });
    expect(parseSubmitRequest(JSON.stringify({ version: VERSION, input: {} }))).toMatchObject({ version: VERSION });
  });

  it('always asks for the completed event', () => {
    expect(
      parseSubmitRequest(JSON.stringify({ model: 'a/b', input: {}, webhookEvents: ['logs'] })).webhookEvents,
    ).toEqual(['logs', 'completed']);
  });

  it.each([
    ['not JSON', '{"model":', 'invalid_json', 400],
    ['an array', '[]', 'validation_failed', 422],
    ['no input', JSON.stringify({ model: 'a/b' }), 'validation_failed', 422],
    ['input not an object', JSON.stringify({ model: 'a/b', input: 'x' }), 'validation_failed', 422],
    ['neither model nor version', JSON.stringify({ input: {} }), 'validation_failed', 422],
    ['a model without owner', JSON.stringify({ model: 'flux', input: {} }), 'validation_failed', 422],
    ['a model with a bad version', JSON.stringify({ model: 'a/b:xyz', input: {} }), 'validation_failed', 422],
    ['a model with path tricks', JSON.stringify({ model: '../../predictions', input: {} }), 'validation_failed', 422],
    ['a short version', JSON.stringify({ version: 'abc', input: {} }), 'validation_failed', 422],
    [
      'conflicting versions',
      JSON.stringify({ model: `a/b:${VERSION}`, version: 'b'.repeat(64), input: {} }),
      'validation_failed',
      422,
    ],
    [
      'an unknown field',
      JSON.stringify({ model: 'a/b', input: {}, webhook: 'https://evil' }),
      'validation_failed',
      422,
    ],
    [
      'an unknown webhook event',
      JSON.stringify({ model: 'a/b', input: {}, webhookEvents: ['everything'] }),
      'validation_failed',
      422,
    ],
    ['metadata not an object', JSON.stringify({ model: 'a/b', input: {}, metadata: [1] }), 'validation_failed', 422],
    [
      'metadata too large',
      JSON.stringify({ model: 'a/b', input: {}, metadata: { x: 'y'.repeat(17 * 1024) } }),
      'validation_failed',
      422,
    ],
    [
      'input nested too deep',
      `{"model":"a/b","input":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
      'validation_failed',
      422,
    ],
    [
      'a body over 256 KiB',
      JSON.stringify({ model: 'a/b', input: { p: 'x'.repeat(MAX_SUBMIT_BODY_BYTES) } }),
      'body_too_large',
      413,
    ],
  ])('refuses %s', (_name, body, code, status) => {
    const error = errorOf(body);
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error.code).toBe(code);
    expect(API_ERRORS[error.code]).toBe(status);
  });

  it('says precisely what is wrong', () => {
    const error = errorOf(JSON.stringify({ model: 'a/b', input: {}, extra: 1 }));
    expect(error.message).toMatch(/extra/);
    expect(error.details).toEqual([expect.objectContaining({ path: '(body)' })]);
  });

  it('measures depth without recursion (hostile nesting cannot overflow the stack)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(depthOf(deep)).toBe(100_000);
  });

  it('refuses hostile metadata nesting with 422, before anything recurses over it', () => {
    // Found by an outside review: JSON.stringify ran before the depth check and overflowed the stack (a 500).
    const depth = 40_000; // 240 kB: under the body limit
    const body = `{"model":"a/b","input":{},"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    const error = errorOf(body);
    expect(error).toBeInstanceOf(InvalidRequest);
    expect(error).toMatchObject({ code: 'validation_failed' });
    expect(API_ERRORS[error.code]).toBe(422);
  });
});

describe('Prefer: wait', () => {
  const max = { max: 25 };
  it('reads wait=N, clamps it to the longest wait, and ignores what it does not know', () => {
    expect(preferredWaitSeconds('wait=10', max)).toBe(10);
    expect(preferredWaitSeconds('respond-async, wait=5', max)).toBe(5);
    expect(preferredWaitSeconds('wait="7"; x=y', max)).toBe(7);
    expect(preferredWaitSeconds('wait=600', max)).toBe(25);
    expect(preferredWaitSeconds('wait=600', { max: 60 })).toBe(60);
    expect(preferredWaitSeconds('wait=0', max)).toBeUndefined();
    expect(preferredWaitSeconds('wait', max)).toBeUndefined();
    expect(preferredWaitSeconds('wait=-1', max)).toBeUndefined();
    expect(preferredWaitSeconds(undefined, max)).toBeUndefined();
  });

  it("reads a bare `wait` as the longest wait where Replicate's API does (/v1)", () => {
    const v1 = { max: 60, bareWaitsLongest: true };
    expect(preferredWaitSeconds('wait', v1)).toBe(60);
    expect(preferredWaitSeconds('respond-async, Wait ; x=y', v1)).toBe(60);
    expect(preferredWaitSeconds('wait=5', v1)).toBe(5);
    expect(preferredWaitSeconds('waiting', v1)).toBeUndefined();
  });
});

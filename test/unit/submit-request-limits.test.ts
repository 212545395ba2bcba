import { InvalidRequest } from '../../lambdas/core/errors';
import { MAX_METADATA_BYTES, MAX_SUBMIT_BODY_BYTES } from '../../lambdas/core/limits';
import { depthOf, parseSubmitRequest } from '../../lambdas/core/submit-request';
import { API_ERRORS } from '../../lambdas/http/error-status';

/** Beside submit-request.test.ts: each limit at its edge, and what a refusal tells the client. */
const VERSION = 'a'.repeat(64);
const submit = (body: object, options?: { callbackHttpsOnly?: boolean }) =>
  parseSubmitRequest(JSON.stringify({ model: 'a/b', input: {}, ...body }), options);
function refusal(run: () => unknown): InvalidRequest {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidRequest) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}
/** A JSON value nested `depth` levels deep (an object holding an object …). */
const nested = (depth: number): object => (depth <= 1 ? { leaf: 1 } : { a: nested(depth - 1) });

describe('submit body size', () => {
  /** A body of exactly `bytes` bytes of UTF-8. */
  const bodyOf = (bytes: number, filler = 'x') => {
    const frame = JSON.stringify({ model: 'a/b', input: { p: '' } });
    return frame.replace(
      '"p":""',
      `"p":"${filler.repeat((bytes - Buffer.byteLength(frame)) / Buffer.byteLength(filler))}"`,
    );
  };

  it('accepts a body of exactly the limit and refuses one byte more, with the limit in the message', () => {
    expect(() => parseSubmitRequest(bodyOf(MAX_SUBMIT_BODY_BYTES))).not.toThrow();
    const error = refusal(() => parseSubmitRequest(bodyOf(MAX_SUBMIT_BODY_BYTES + 1)));
    expect(error).toMatchObject({ code: 'body_too_large', message: 'The request body must be at most 262144 bytes' });
    expect(API_ERRORS[error.code]).toBe(413);
  });

  it('counts bytes, not characters', () => {
    const body = bodyOf(MAX_SUBMIT_BODY_BYTES + 2, 'é'); // fewer characters than the limit, more bytes
    expect(body.length).toBeLessThan(MAX_SUBMIT_BODY_BYTES);
    expect(refusal(() => parseSubmitRequest(body)).code).toBe('body_too_large');
  });
});

describe('what a refusal tells the client', () => {
  it('quotes the JSON parser', () => {
    expect(refusal(() => parseSubmitRequest('{"model":')).message).toMatch(/^The request body is not valid JSON: .+/);
  });

  it('names each invalid field by its path, all of them in one message', () => {
    const error = refusal(() => submit({ webhookEvents: ['start', 'everything'], timeoutSeconds: 1 }));
    expect(error.details).toEqual([
      { path: 'webhookEvents.1', message: expect.any(String) },
      { path: 'timeoutSeconds', message: expect.stringContaining('10') },
    ]);
    expect(error.message).toMatch(/^Invalid request: webhookEvents\.1: .+; timeoutSeconds: .+$/);
  });

  it.each([
    [
      'neither model nor version',
      { model: undefined },
      'model',
      'give "model" ("owner/name[:version]"), "version" or "deployment"',
    ],
    [
      'a deployment with a model',
      { deployment: 'acme/prod' },
      'deployment',
      'give either "deployment" or "model"/"version", not both',
    ],
    [
      'two different versions',
      { model: `a/b:${VERSION}`, version: 'b'.repeat(64) },
      'version',
      'differs from the version in "model"',
    ],
    ['a malformed model', { model: 'a' }, 'model', 'must be "owner/name" or "owner/name:<64-hex version>"'],
    ['a malformed version', { version: 'abc' }, 'version', 'must be 64 lowercase hex characters'],
    [
      'a callback that is not a URL',
      { callbackUrl: 'example.com/hook' },
      'callbackUrl',
      'must be an absolute http(s) URL',
    ],
  ])('says what is wrong with %s', (_name, body, path, message) => {
    const error = refusal(() => submit(body));
    expect(error).toMatchObject({
      code: 'validation_failed',
      details: [{ path, message }],
      message: `Invalid request: ${path}: ${message}`,
    });
  });
});

describe('model and version', () => {
  it('names no model for a bare version (Replicate is then asked by version alone)', () => {
    expect(parseSubmitRequest(JSON.stringify({ version: VERSION, input: {} }))).toMatchObject({
      model: '',
      version: VERSION,
    });
  });

  it('accepts the same version given twice', () => {
    expect(submit({ model: `a/b:${VERSION}`, version: VERSION })).toMatchObject({ model: 'a/b', version: VERSION });
  });

  it.each(['owner/name', 'o_w.n-er/na.me_2', '0/9'])('accepts the model name %s', (model) => {
    expect(submit({ model }).model).toBe(model);
  });

  it.each(['-owner/name', 'owner/name/extra', 'owner/name-', 'owner//name', `owner/name:${VERSION.toUpperCase()}`])(
    'refuses the model name %s',
    (model) => {
      expect(refusal(() => submit({ model })).details).toEqual([expect.objectContaining({ path: 'model' })]);
    },
  );

  it.each([`x${VERSION}`, `${VERSION}x`, VERSION.toUpperCase(), VERSION.slice(1)])(
    'refuses the version %s',
    (version) => {
      expect(refusal(() => submit({ version })).details).toEqual([expect.objectContaining({ path: 'version' })]);
    },
  );
});

describe('input and metadata limits', () => {
  it('accepts input nested 30 levels deep, not 31', () => {
    expect(depthOf(nested(30))).toBe(30);
    expect(() => submit({ input: nested(30) })).not.toThrow();
    expect(refusal(() => submit({ input: nested(31) }))).toMatchObject({
      details: [{ path: 'input', message: 'nests deeper than 30 levels' }],
    });
  });

  it('measures depth through arrays, and null as no level', () => {
    expect(depthOf([[1], [[2]]])).toBe(3);
    expect(depthOf({ a: null, b: [null] })).toBe(2);
    expect(depthOf(null)).toBe(0);
    expect(depthOf('text')).toBe(0);
    expect(submit({ input: { seed: null } }).input).toEqual({ seed: null });
  });

  it('keeps metadata, up to 8 levels deep and 16 KiB as JSON', () => {
    expect(submit({ metadata: { user: 7 } }).metadata).toEqual({ user: 7 });
    expect(submit({ metadata: nested(8) }).metadata).toEqual(nested(8));
    expect(refusal(() => submit({ metadata: nested(9) }))).toMatchObject({
      details: [{ path: 'metadata', message: 'nests deeper than 8 levels' }],
    });
    const padding = (bytes: number) => ({ p: 'x'.repeat(bytes - JSON.stringify({ p: '' }).length) });
    expect(submit({ metadata: padding(MAX_METADATA_BYTES) }).metadata).toEqual(padding(MAX_METADATA_BYTES));
    expect(refusal(() => submit({ metadata: padding(MAX_METADATA_BYTES + 1) }))).toMatchObject({
      details: [{ path: 'metadata', message: 'must be at most 16384 bytes as JSON' }],
    });
  });
});

describe('timeout', () => {
  it.each([10, 600, 86_400])('accepts %i seconds', (timeoutSeconds) => {
    expect(submit({ timeoutSeconds }).timeoutSeconds).toBe(timeoutSeconds);
  });

  it.each([9, 86_401, 10.5, -1])('refuses %d seconds', (timeoutSeconds) => {
    expect(refusal(() => submit({ timeoutSeconds })).details).toEqual([
      expect.objectContaining({ path: 'timeoutSeconds' }),
    ]);
  });
});

describe('callback URL', () => {
  it('accepts an http(s) URL, and keeps it', () => {
    expect(submit({ callbackUrl: 'https://app.example/hook' }).callbackUrl).toBe('https://app.example/hook');
    expect(submit({ callbackUrl: 'http://127.0.0.1:8080/hook' }).callbackUrl).toBe('http://127.0.0.1:8080/hook');
    expect(
      submit({ callbackUrl: `https://app.example/${'x'.repeat(2048 - 'https://app.example/'.length)}` }).callbackUrl,
    ).toHaveLength(2048);
  });

  it('requires https where the deployment says so (in AWS)', () => {
    const options = { callbackHttpsOnly: true };
    expect(submit({ callbackUrl: 'https://app.example/hook' }, options).callbackUrl).toBe('https://app.example/hook');
    expect(refusal(() => submit({ callbackUrl: 'http://app.example/hook' }, options))).toMatchObject({
      details: [{ path: 'callbackUrl', message: 'must be an https URL' }],
    });
    expect(submit({}, options).callbackUrl).toBeUndefined();
  });

  it.each([
    'ftp://app.example/hook',
    'javascript:alert(1)',
    '/relative/hook',
    'https://user:pw@app.example/hook', // credentials would be sent to, and logged by, whoever receives it
    'https://user@app.example/hook',
    'https://:pw@app.example/hook',
    `https://app.example/${'x'.repeat(2049 - 'https://app.example/'.length)}`,
  ])('refuses %s', (callbackUrl) => {
    expect(refusal(() => submit({ callbackUrl })).details).toEqual([expect.objectContaining({ path: 'callbackUrl' })]);
  });
});

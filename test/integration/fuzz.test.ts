import fc from 'fast-check';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * Thousands of hostile requests against the running local stack: bad JSON, deep nesting, huge bodies,
 * wrong types, unknown fields, odd paths, methods and headers. Every one must be answered below 500 and
 * leave no write behind and no call to Replicate. Requests are invalid by construction (a valid submit
 * would rightly write a job).
 */
describe('hostile input (fuzz, local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  const deep = (depth: number, open: string, close: string) => `${open.repeat(depth)}1${close.repeat(depth)}`;
  const junk = fc.string({ maxLength: 40 });
  const badJson = fc.oneof(
    fc.constantFrom('', '{', '}', 'null', '[]', '"x"', '1e999', '{"model":', '\u0000', '{"a":1}{"b":2}', 'NaN', '{"input":{}}garbage'),
    fc.integer({ min: 1000, max: 20_000 }).map((n) => deep(n, '[', ']')),
    fc.integer({ min: 31, max: 2000 }).map((n) => `{"model":"a/b","input":${deep(n, '{"a":', '}')}}`),
    junk,
  );
  const wrongShape = fc
    .record({
      model: fc.oneof(fc.constant('a/b'), junk, fc.integer(), fc.constant(null), fc.constant('../../x'), fc.constant('a/b:' + 'z'.repeat(64))),
      version: fc.option(fc.oneof(junk, fc.integer(), fc.constant('A'.repeat(64)))),
      input: fc.oneof(fc.object({ maxDepth: 3 }), fc.array(fc.anything()), junk, fc.integer(), fc.constant(null)),
      webhookEvents: fc.option(fc.oneof(fc.array(junk), junk, fc.constant(['everything']))),
      metadata: fc.option(fc.oneof(fc.anything(), fc.constant({ x: 'y'.repeat(20_000) }))),
      timeoutSeconds: fc.option(fc.oneof(fc.double(), fc.integer({ min: -10, max: 9 }), junk)),
    })
    // An unknown field makes every one of these invalid, whatever else was drawn.
    .map((body) => JSON.stringify({ ...body, [`x_${Math.random().toString(36).slice(2, 6)}`]: 1 }));
  const body = fc.oneof({ weight: 3, arbitrary: badJson }, { weight: 5, arbitrary: wrongShape });
  const path = fc.oneof(
    fc.constantFrom('/jobs', '/jobs/', '//jobs', '/jobs/job_00000000000000000000000000', '/jobs/x/cancel', '/webhooks/replicate', '/health', '/', '/jobs/%00', '/jobs/..%2F..%2Fetc', '/JOBS', '/jobs?limit=-1', '/jobs?status=%27;--', '/jobs?cursor=eyJ9'),
    junk.map((s) => `/jobs/${encodeURIComponent(s)}`),
    junk.map((s) => `/jobs/${encodeURIComponent(s)}/cancel`),
    junk.map((s) => `/${encodeURIComponent(s)}`),
  );
  const anyRequest = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    path,
    body,
    key: fc.constantFrom('key-alice', 'key-bob', '', 'nope', 'key-alice\u0000'),
    idempotencyKey: fc.option(fc.oneof(junk, fc.constant('x'.repeat(300)))),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
  });
  // Most requests get past routing and authentication, so the handlers' validation is what is fuzzed.
  const submitRequest = fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/jobs'),
    body,
    key: fc.constantFrom('key-alice', 'key-bob'),
    idempotencyKey: fc.option(fc.oneof(junk, fc.constant('x'.repeat(300)))),
    contentType: fc.constant('application/json'),
  });
  const listRequest = fc.record({
    method: fc.constant('GET'),
    path: fc.tuple(junk, junk, junk).map(([a, b, c]) => `/jobs?limit=${encodeURIComponent(a)}&status=${encodeURIComponent(b)}&cursor=${encodeURIComponent(c)}`),
    body: fc.constant(''),
    key: fc.constant('key-alice'),
    idempotencyKey: fc.constant(null),
    contentType: fc.constant(''),
  });
  const request = fc.oneof({ weight: 6, arbitrary: submitRequest }, { weight: 1, arbitrary: listRequest }, { weight: 3, arbitrary: anyRequest });

  it('answers 2000 hostile requests below 500, with no write and no call to Replicate', async () => {
    const t0 = Date.now();
    const before = { items: await stack.itemCount(), predictions: stack.simulator!.predictions.size };
    const samples = fc.sample(request, { numRuns: 2000, seed: 20261128 });
    // A few bodies over every limit (API Gateway's 10 MB included): more would only spend time moving bytes.
    for (const path of ['/jobs', '/webhooks/replicate', '/jobs/x/cancel']) samples.push({ ...samples[0], method: 'POST', path, body: 'huge' });
    const statuses = new Map<number, number>();
    const fives: string[] = [];
    let slowest = 0;
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const sample = samples[next++];
        const hasBody = !['GET', 'OPTIONS'].includes(sample.method);
        const payload = sample.body === 'huge' ? JSON.stringify({ model: 'a/b', input: { p: 'x'.repeat(11 * 1024 * 1024) } }) : sample.body;
        const headers: Record<string, string> = {};
        if (sample.key) headers['x-api-key'] = sample.key.replace('\u0000', '');
        if (sample.contentType) headers['content-type'] = sample.contentType;
        if (sample.idempotencyKey) headers['idempotency-key'] = encodeURIComponent(sample.idempotencyKey);
        const started = Date.now();
        const response = await fetch(`${stack.url}${sample.path}`, { method: sample.method, headers, body: hasBody ? payload : undefined });
        await response.arrayBuffer();
        slowest = Math.max(slowest, Date.now() - started);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) fives.push(`${sample.method} ${sample.path} → ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    process.stdout.write(`fuzz: ${samples.length} requests in ${Date.now() - t0} ms, slowest ${slowest} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(fives).toEqual([]);
    expect(await stack.itemCount()).toBe(before.items);
    expect(stack.simulator!.predictions.size).toBe(before.predictions);
    expect(stack.log.lines.filter((line) => line.level === 'error')).toEqual([]);
    // It reached the handlers, not only the router: validation errors of every kind were answered.
    for (const status of [400, 401, 404, 405, 413, 422]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  }, 120_000);
});

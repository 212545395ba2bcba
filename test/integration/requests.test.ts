import { createHmac, randomBytes } from 'node:crypto';
import { StaticSecrets } from '../../lambdas/adapters/secrets';
import { receiveWebhook } from '../support/api-handlers';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';

/** Bad input gets a precise error with a stable code, writes nothing and never reaches Replicate. */
describe('requests, tenancy and idempotency (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  const nothingHappens = async (action: () => Promise<void>) => {
    const items = await stack.itemCount();
    const predictions = stack.simulator!.predictions.size;
    await action();
    expect(await stack.itemCount()).toBe(items);
    expect(stack.simulator!.predictions.size).toBe(predictions);
  };

  it.each([
    ['bad JSON', '{"model": "a/b", "input": {', 400, 'invalid_json'],
    ['an empty body', '', 400, 'invalid_json'],
    ['an unknown field', { model: 'a/b', input: {}, priority: 'high' }, 422, 'validation_failed'],
    ['a wrong type', { model: 'a/b', input: [] }, 422, 'validation_failed'],
    ['a malformed model', { model: 'not a model', input: {} }, 422, 'validation_failed'],
    ['a body over 256 KiB', { model: 'a/b', input: { prompt: 'x'.repeat(300 * 1024) } }, 413, 'body_too_large'],
  ])('refuses %s with %i %s', async (_name, body, status, code) => {
    await nothingHappens(async () => {
      const response = await stack.request('/jobs', { body });
      expect(response.status).toBe(status);
      expect(response.json).toEqual({
        error: {
          code,
          message: expect.any(String),
          ...(code === 'validation_failed' ? { details: expect.any(Array) } : {}),
        },
      });
    });
  });

  it('requires a valid API key on /jobs', async () => {
    await nothingHappens(async () => {
      expect((await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: null })).json.error.code).toBe(
        'unauthorized',
      );
      expect((await stack.request('/jobs', { body: { model: 'a/b', input: {} }, key: 'nope' })).status).toBe(401);
      expect((await stack.request('/jobs/job_x', { key: null })).status).toBe(401);
    });
  });

  it("takes the API key from `Authorization: Bearer` too (Replicate's clients), through the API's Lambda authorizer", async () => {
    const bearer = (token: string) => ({ key: null, headers: { authorization: `Bearer ${token}` } });
    const job = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, ...bearer('key-alice') });
    expect(job.status).toBe(202);
    // The same owner as with x-api-key: the authorizer hands API Gateway the key, which names the owner.
    expect((await stack.request(`/jobs/${job.json.id}`)).status).toBe(200);
    expect((await stack.request(`/jobs/${job.json.id}`, bearer('key-bob'))).status).toBe(404);
    expect(
      (await stack.request(`/jobs/${job.json.id}`, { key: null, headers: { authorization: 'Token key-alice' } }))
        .status,
    ).toBe(200);
    await nothingHappens(async () => {
      for (const authorization of ['Bearer nope', 'Bearer', 'Basic a2V5LWFsaWNl', 'key-alice']) {
        const refused = await stack.request('/jobs', {
          body: { model: 'a/b', input: {} },
          key: null,
          headers: { authorization },
        });
        expect(refused).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
      }
    });
  });

  it('answers unknown routes 404 and wrong methods 405, in the error format', async () => {
    expect(await stack.request('/nope')).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    expect(await stack.request('/jobs', { method: 'DELETE' })).toMatchObject({
      status: 405,
      json: { error: { code: 'method_not_allowed' } },
    });
  });

  it('shows a job only to its owner: another owner gets 404, never 403', async () => {
    const job = await stack.submit({ model: 'a/b', input: {} });
    expect((await stack.request(`/jobs/${job.id}`, { key: 'key-alice' })).status).toBe(200);
    expect(await stack.request(`/jobs/${job.id}`, { key: 'key-bob' })).toMatchObject({
      status: 404,
      json: { error: { code: 'not_found' } },
    });
  });

  it.each([
    ['a well-formed id that does not exist', 'job_00000000000000000000000000'],
    ['a malformed id', 'hello'],
    ['a very long id', 'job_' + 'a'.repeat(5000)],
    ['an id with odd characters', encodeURIComponent('job_../../etc"\'<>')],
  ])('answers 404 for %s', async (_name, id) => {
    expect((await stack.request(`/jobs/${id}`)).status).toBe(404);
  });

  it('returns the same job for the same Idempotency-Key and body, with one prediction', async () => {
    const key = `order-${randomBytes(4).toString('hex')}`;
    const body = { model: 'a/b', input: { prompt: 'same', n: 1 } };
    const first = await stack.submit(body, { headers: { 'idempotency-key': key } });
    const predictions = stack.simulator!.predictions.size;
    // Key order in the body does not matter.
    const again = await stack.submit(
      { input: { n: 1, prompt: 'same' }, model: 'a/b' },
      { headers: { 'idempotency-key': key } },
    );
    expect(again.id).toBe(first.id);
    expect(again.predictionId).toBe(first.predictionId);
    expect(stack.simulator!.predictions.size).toBe(predictions);
    // The same key from another owner is another job.
    const bobs = await stack.submit(body, { key: 'key-bob', headers: { 'idempotency-key': key } });
    expect(bobs.id).not.toBe(first.id);
  });

  it('answers 409 for the same Idempotency-Key with a different body', async () => {
    const key = `k-${randomBytes(4).toString('hex')}`;
    await stack.submit({ model: 'a/b', input: { prompt: 'one' } }, { headers: { 'idempotency-key': key } });
    const response = await stack.request('/jobs', {
      body: { model: 'a/b', input: { prompt: 'two' } },
      headers: { 'idempotency-key': key },
    });
    expect(response).toMatchObject({ status: 409, json: { error: { code: 'idempotency_key_reused' } } });
  });

  it('refuses a malformed Idempotency-Key', async () => {
    await nothingHappens(async () => {
      const response = await stack.request('/jobs', {
        body: { model: 'a/b', input: {} },
        headers: { 'idempotency-key': 'x'.repeat(300) },
      });
      expect(response).toMatchObject({ status: 400, json: { error: { code: 'invalid_idempotency_key' } } });
    });
  });

  it('answers an Idempotency-Key retry of a submission Replicate throttled with the same waiting job', async () => {
    const key = `retry-${randomBytes(4).toString('hex')}`;
    const submit = () =>
      stack.request('/jobs', {
        body: { model: 'a/b', input: { simulate: { rateLimit: true } } },
        headers: { 'idempotency-key': key },
      });
    const throttled = await submit();
    expect(throttled).toMatchObject({ status: 202, json: { status: 'queued', predictionId: null } });
    const again = await submit();
    expect(again).toMatchObject({ status: 202, json: { id: throttled.json.id, status: 'queued' } });
    await stack.request(`/jobs/${throttled.json.id}/cancel`, { method: 'POST' }); // leaves nothing waiting
  });

  describe('webhook receiver', () => {
    const sign = (body: string, secret = stack.webhookSecret, timestamp = Math.floor(Date.now() / 1000)) => {
      const id = `msg_${randomBytes(6).toString('hex')}`;
      const key = Buffer.from(secret.split(',')[0].replace('whsec_', ''), 'base64');
      const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
      return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
    };
    const body = JSON.stringify({ id: 'unknown-prediction', status: 'succeeded', output: null });

    it.each([
      ['no signature headers', () => ({})],
      ['a signature made with another secret', () => sign(body, `whsec_${randomBytes(24).toString('base64')}`)],
      ['a stale timestamp', () => sign(body, undefined, Math.floor(Date.now() / 1000) - 600)],
      ['a signature of another body', () => sign(body.replace('succeeded', 'failed'))],
    ])('answers 401 to %s and queues nothing', async (_name, headers) => {
      const response = await stack.request('/webhooks/replicate', {
        body,
        key: null,
        headers: headers() as Record<string, string>,
      });
      expect(response).toMatchObject({
        status: 401,
        json: { error: { code: 'invalid_signature', message: 'Invalid webhook signature' } },
      });
      expect(stack.log.lines.some((line) => line.message === 'webhook could not be queued')).toBe(false);
    });

    it('acknowledges a replayed delivery (same webhook-id, twice) and the consumer ignores it: the job is not touched', async () => {
      const submitted = await stack.submit({ model: 'a/b', input: {} });
      const done = await stack.waitFor(submitted.id);
      expect(done.status).toBe('succeeded');
      const completed = JSON.stringify(stack.simulator!.predictions.get(done.predictionId!));
      const headers = sign(completed);
      const ignored = () =>
        stack.log.lines.filter(
          (line) =>
            line.message === 'prediction event ignored' &&
            line.extra.jobId === submitted.id &&
            line.extra.reason === 'terminal',
        );
      const before = ignored().length;
      for (let i = 0; i < 2; i++)
        expect((await stack.request('/webhooks/replicate', { body: completed, key: null, headers })).status).toBe(202);
      await eventually(() => ignored().length === before + 2);
      const after = (await stack.request(`/jobs/${submitted.id}`)).json;
      expect(after).toMatchObject({ status: 'succeeded', updatedAt: done.updatedAt, completedAt: done.completedAt });
    });

    it("refuses a body over 10 MB (API Gateway) and one over 6 MB (Lambda's payload limit) with 413, and queues nothing", async () => {
      for (const size of [10 * 1024 * 1024, 6.5 * 1024 * 1024]) {
        const huge = JSON.stringify({ id: 'x', status: 'succeeded', output: 'y'.repeat(size) });
        const response = await stack.request('/webhooks/replicate', { body: huge, key: null, headers: sign(huge) });
        expect(response).toMatchObject({ status: 413, json: { error: { code: 'body_too_large' } } });
      }
    });

    it("fails closed while an entry of the secret is malformed: a body signed with `UNSET`'s 3-byte key, or even the good secret, is refused 503 webhook_not_configured, logged and counted", async () => {
      // What a hand-edited Secrets Manager value does to the deployed handler: the same handler and adapters,
      // reading `whsec_…,UNSET`. Lenient base64 made `UNSET` the key 0x51 0x23 0x13, which anyone can sign with.
      const misconfigured = {
        ...stack.deps,
        secrets: new StaticSecrets({ apiToken: 'unused', webhookSecret: `${stack.webhookSecret},UNSET` }),
      };
      const forgedKey = Buffer.from('UNSET', 'base64');
      expect(forgedKey).toHaveLength(3);
      const forged = (() => {
        const headers = sign(body);
        const signature = createHmac('sha256', forgedKey)
          .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
          .digest('base64');
        return { ...headers, 'webhook-signature': `v1,${signature}` };
      })();
      const event = (headers: Record<string, string>) => ({
        body,
        isBase64Encoded: false,
        headers,
        path: '/webhooks/replicate',
        pathParameters: null,
        queryStringParameters: null,
        requestContext: {
          domainName: 'localhost',
          path: '/webhooks/replicate',
          stage: 'v1',
          identity: { apiKeyId: null },
        },
      });
      const counted = stack.metrics.get('WebhookSecretInvalid');
      for (const headers of [forged, sign(body)]) {
        const response = await receiveWebhook(misconfigured)(event(headers));
        expect(response.statusCode).toBe(503);
        expect(JSON.parse(response.body).error.code).toBe('webhook_not_configured');
        expect(stack.log.lines.some((line) => line.extra.webhookId === headers['webhook-id'])).toBe(false); // never received, never queued
      }
      expect(stack.metrics.get('WebhookSecretInvalid')).toBe(counted + 2);
      const logged = stack.log.lines.filter((line) => line.message === 'webhook signing secret unusable');
      expect(logged.at(-1)!.extra).toMatchObject({
        code: 'invalid_webhook_secret',
        problem: 'missing_prefix',
        entry: { index: 2, of: 2 },
      });
      expect(JSON.stringify(logged)).not.toContain(stack.webhookSecret.slice(6));

      // The placeholder alone (secrets not set after deploy) is the same configuration error.
      const unset = await receiveWebhook({
        ...stack.deps,
        secrets: new StaticSecrets({ apiToken: 'unused', webhookSecret: 'UNSET' }),
      })(event(forged));
      expect(JSON.parse(unset.body).error.code).toBe('webhook_not_configured');
      expect(stack.log.lines.at(-1)!.extra).toMatchObject({ code: 'invalid_webhook_secret', problem: 'not_set' });
    });

    it('needs no API key and answers 2xx once a signed body is queued', async () => {
      const response = await stack.request('/webhooks/replicate', { body, key: null, headers: sign(body) });
      expect(response.status).toBe(202);
    });
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Replicate, { type ApiError, validateWebhook } from 'replicate';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';

const VERSION = 'a'.repeat(64);

/** A webhook receiver that keeps every request's headers and raw body. */
async function startReceiver() {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replicate-hooks`,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** What the client threw: its ApiError's status, and our Replicate-shaped body (the client read it into the message). */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toMatchObject({ name: 'ApiError', response: expect.any(Response) });
  const { response, message } = error as ApiError;
  const body = /failed with status \d+ [^:]*: (.*)\.$/s.exec(message)![1];
  return { status: response.status, body: JSON.parse(body), headers: response.headers };
}

/**
 * Replicate's official JavaScript client (the version package-lock.json pins), unchanged but for its base URL,
 * against the local stack: every call is a job underneath.
 */
describe('the Replicate-compatible API (/v1) with the official replicate client', () => {
  let stack: TestStack;
  let replicate: Replicate;
  const clientOf = (auth: string) => new Replicate({ auth, baseUrl: `${stack.url}/v1` });

  beforeAll(async () => {
    stack = await startTestStack({ apiKeys: 'alice=key-alice,bob=key-bob,carol=key-carol' });
    replicate = clientOf('key-alice');
  });
  afterAll(() => stack.stop());

  /** The simulator's prediction of a job, by the input's unique prompt. */
  const simulated = (prompt: string) =>
    [...stack.simulator!.predictions.values()].find((p) => p.input.prompt === prompt);

  it('run() on a model name answers our copy of the output: our URL, the same bytes', async () => {
    // A string: the client wraps only https and data: URLs in FileOutput, and ours are http locally.
    const output = (await replicate.run('acme/flux', { input: { prompt: 'run-model' } })) as unknown as string;
    expect(typeof output).toBe('string');
    const sourceUrl = simulated('run-model')!.output as string;
    expect(output).not.toBe(sourceUrl);
    expect(new URL(output).origin).not.toBe(new URL(stack.simulator!.url).origin);
    const copy = Buffer.from(await (await fetch(output)).arrayBuffer());
    expect(copy.equals(stack.simulator!.fileBytes(sourceUrl))).toBe(true);
  });

  it('predictions.create on a version, then wait(): a prediction in Replicate shape, succeeded once stored', async () => {
    const created = await replicate.predictions.create({ version: VERSION, input: { prompt: 'create-version' } });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^job_/),
      version: VERSION,
      status: 'starting',
      input: { prompt: 'create-version' },
      output: null,
      error: null,
      urls: {
        get: `${stack.url}/v1/predictions/${created.id}`,
        cancel: `${stack.url}/v1/predictions/${created.id}/cancel`,
      },
    });
    const done = await replicate.wait(created, { interval: 50 });
    expect(done).toMatchObject({ id: created.id, status: 'succeeded', error: null, source: 'api' });
    expect(done.metrics).toEqual(expect.objectContaining({ predict_time: expect.any(Number) }));
    expect(Date.parse(done.completed_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
    // The same job through our own API: the output is our stored copy.
    const job = (await stack.request(`/jobs/${created.id}`)).json;
    expect(job.status).toBe('succeeded');
    expect(new URL(done.output as string).pathname).toBe(new URL(job.outputs[0].url).pathname);
  });

  it('predictions.create with wait: an unfinished prediction is answered as starting, so run() keeps polling', async () => {
    const started = Date.now();
    const held = await replicate.predictions.create({
      model: 'acme/slow',
      input: { prompt: 'held', simulate: { stepMs: 1500 } },
      wait: 1,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(held.status).toBe('starting');
    const output = await replicate.run('acme/slow', { input: { prompt: 'run-slow', simulate: { stepMs: 400 } } });
    expect(String(output)).toMatch(/^http/);
    await replicate.predictions.cancel(held.id);
  });

  it('holds a bare Prefer: wait, or a longer one, at most 60 s locally (maxPreferWaitSeconds), on /v1 and /jobs', async () => {
    const body = { version: VERSION, input: { prompt: 'prefer' } };
    for (const prefer of ['wait', 'wait=600']) {
      const held = await stack.request('/v1/predictions', { body, headers: { prefer } });
      expect([held.status, held.headers.get('preference-applied'), held.json.status]).toEqual([
        201,
        'wait=60',
        'succeeded',
      ]);
    }
    const job = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, headers: { prefer: 'wait=600' } });
    expect([job.status, job.headers.get('preference-applied')]).toEqual([200, 'wait=60']);
    // Bare `wait` is Replicate's; /jobs asks for a number.
    const bare = await stack.request('/jobs', { body: { model: 'a/b', input: {} }, headers: { prefer: 'wait' } });
    expect([bare.status, bare.headers.get('preference-applied')]).toEqual([202, null]);
  });

  it('predictions.cancel cancels the job; a second cancel, or one of an ended prediction, answers it as it is', async () => {
    const running = await replicate.predictions.create({
      version: VERSION,
      input: { prompt: 'cancel-me', simulate: { stepMs: 60_000 } },
    });
    await eventually(() => simulated('cancel-me')?.status === 'starting');
    const canceled = await replicate.predictions.cancel(running.id);
    expect(canceled).toMatchObject({ id: running.id, status: 'canceled', error: null });
    expect(simulated('cancel-me')!.status).toBe('canceled');
    expect((await replicate.predictions.cancel(running.id)).status).toBe('canceled');
    expect((await replicate.predictions.get(running.id)).status).toBe('canceled');

    const ended = await replicate.predictions.create({ version: VERSION, input: { prompt: 'ended' }, wait: 30 });
    expect(ended.status).toBe('succeeded');
    expect((await replicate.predictions.cancel(ended.id)).status).toBe('succeeded');
  });

  it("predictions.list pages by Replicate's cursors: next until null, newest first, only the owner's", async () => {
    const carol = clientOf('key-carol');
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      ids.push((await carol.predictions.create({ version: VERSION, input: { prompt: `list-${i}` } })).id);
    }
    const pages: string[][] = [];
    for await (const page of carol.paginate(carol.predictions.list)) pages.push(page.map((p) => p.id));
    expect(pages.map((page) => page.length)).toEqual([20, 3]);
    expect(pages.flat()).toEqual([...ids].reverse());
    const first = await carol.predictions.list();
    expect(first.previous).toBeNull();
    expect(first.next).toMatch(new RegExp(`^${stack.url}/v1/predictions\\?cursor=`));
    expect(first.results[0]).toMatchObject({ id: ids.at(-1), input: { prompt: 'list-22' } });
    // Another owner's cursor pages nothing of carol's.
    const stolen = await refusal(clientOf('key-bob').request(first.next!, { method: 'GET' }));
    expect(stolen).toMatchObject({ status: 400, body: { status: 400, code: 'invalid_query' } });
  });

  it("another owner's prediction is the client's 404 error, in Replicate's error shape", async () => {
    const alices = await replicate.predictions.create({ version: VERSION, input: { prompt: 'private' } });
    const bob = clientOf('key-bob');
    for (const call of [() => bob.predictions.get(alices.id), () => bob.predictions.cancel(alices.id)]) {
      const refused = await refusal(call());
      expect(refused).toEqual({
        status: 404,
        headers: expect.anything(),
        body: { title: 'Not found', detail: 'No such job', status: 404, code: 'not_found' },
      });
    }
    // The gateway's own refusals on /v1 are Replicate's shape too: no key, no route (files are not offered).
    const nobody = await refusal(clientOf('key-nobody').predictions.get(alices.id));
    expect(nobody).toMatchObject({ status: 401, body: { title: 'Unauthorized', status: 401, code: 'unauthorized' } });
    const files = await refusal(replicate.files.list());
    expect(files).toMatchObject({ status: 404, body: { title: 'Not found', status: 404, code: 'not_found' } });
  });

  it("refuses bad input with Replicate's 422 shape, naming Replicate's fields, and writes nothing", async () => {
    const items = await stack.itemCount();
    const noVersion = await refusal(replicate.request('/predictions', { method: 'POST', data: { input: {} } }));
    expect(noVersion).toMatchObject({
      status: 422,
      body: { title: 'Validation failed', status: 422, code: 'validation_failed', details: [{ path: 'version' }] },
    });
    const badFilter = await refusal(
      replicate.predictions.create({ version: VERSION, input: {}, webhook_events_filter: ['finished' as 'completed'] }),
    );
    expect(badFilter.body.details[0].path).toMatch(/^webhook_events_filter/);
    const badModel = await refusal(replicate.predictions.create({ model: 'acme/no model', input: {} }));
    expect(badModel.status).toBe(422);
    expect(await stack.itemCount()).toBe(items);
  });

  it('deployments.predictions.create runs the job on the deployment', async () => {
    const prediction = await replicate.deployments.predictions.create('acme', 'prod', {
      input: { prompt: 'deployment' },
    });
    expect(prediction).toMatchObject({ deployment: 'acme/prod', model: '', status: 'starting' });
    expect((await replicate.wait(prediction, { interval: 50 })).status).toBe('succeeded');
  });

  it("a prediction's webhook gets the prediction at its end, signed so the client's validateWebhook accepts it", async () => {
    const receiver = await startReceiver();
    try {
      const created = await replicate.predictions.create({
        version: VERSION,
        input: { prompt: 'hooked' },
        webhook: receiver.url,
        webhook_events_filter: ['start', 'completed'],
      });
      // A filter without `completed` asks for no webhook.
      await replicate.predictions.create({
        version: VERSION,
        input: { prompt: 'unhooked' },
        webhook: receiver.url,
        webhook_events_filter: ['start'],
        wait: 30,
      });
      await eventually(() => receiver.received.length > 0);
      await replicate.wait(created, { interval: 50 });
      const [delivery] = receiver.received;
      const body = JSON.parse(delivery.body);
      expect(body).toMatchObject({
        id: created.id,
        status: 'succeeded',
        input: { prompt: 'hooked' },
        urls: { get: `${stack.url}/v1/predictions/${created.id}` },
      });
      const stored = (await replicate.predictions.get(created.id)).output as string;
      expect(new URL(body.output).pathname).toBe(new URL(stored).pathname);

      const { key } = (await replicate.webhooks.default.secret.get()) as { key: string };
      expect(key).toBe((await stack.request('/callbacks/secret')).json.secret);
      const headers = new Headers(delivery.headers as Record<string, string>);
      expect(await validateWebhook({ headers, body: delivery.body } as unknown as Request, key)).toBe(true);
      const otherKey = (await clientOf('key-bob').webhooks.default.secret.get()) as { key: string };
      expect(await validateWebhook({ headers, body: delivery.body } as unknown as Request, otherKey.key)).toBe(false);
      const forged = delivery.body.replace('succeeded', 'failed');
      expect(await validateWebhook({ headers, body: forged } as unknown as Request, key)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});

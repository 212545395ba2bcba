import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';

/**
 * The deployed bundles with the template's default guards (no `localNetwork` prop): https only and public
 * addresses only, for output downloads and client callbacks, and signed webhooks only. Every attempt aims
 * at a trap listening on loopback, which must never be reached.
 */
describe('production guards, enforced by the deployed bundles', () => {
  let stack: TestStack;
  let trap: Server;
  let trapHits = 0;
  let trapPort = 0;

  beforeAll(async () => {
    trap = createServer((_req, res) => {
      trapHits++;
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapPort = (trap.address() as AddressInfo).port;
    // Hosts without ports keep the cached synth valid from run to run; the trap's port is in each URL.
    stack = await startTestStack({
      productionNetworkGuards: true,
      env: { OUTPUT_HOSTS: '127.0.0.1,localhost,replicate.delivery' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    trap.closeAllConnections();
    await new Promise((resolve) => trap.close(resolve));
  });

  it('has no network allowance in the template the functions run from', () => {
    for (const fn of stack.model.functions) {
      expect(fn.environment).not.toHaveProperty('ALLOW_PLAIN_HTTP');
      expect(fn.environment).not.toHaveProperty('ALLOW_PRIVATE_ADDRESSES');
    }
  });

  const failedWith = async (outputUrl: string) => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { outputUrl } } });
    return (await stack.waitFor(job.id)).error;
  };

  it('refuses outputs over plain http, even from an allowed host', async () => {
    // 127.0.0.1 (port 80) is on the allowlist: only the scheme is wrong.
    expect(await failedWith('http://127.0.0.1/out.png')).toMatchObject({
      code: 'output_host_not_allowed',
      message: expect.stringContaining('allowlist'),
    });
  });

  it('refuses outputs from private addresses: a literal IP, and a name that resolves to one', async () => {
    expect(await failedWith(`https://127.0.0.1:${trapPort}/out.png`)).toMatchObject({
      message: expect.stringContaining('allowlist'),
    }); // port not allowed
    expect(await failedWith('https://127.0.0.1/out.png')).toMatchObject({
      code: 'output_host_not_allowed',
      message: expect.stringContaining('non-public address (127.0.0.1)'),
    });
    expect(await failedWith('https://localhost/out.png')).toMatchObject({
      code: 'output_host_not_allowed',
      message: expect.stringMatching(/non-public address \((127\.0\.0\.1|::1)\)/),
    });
  });

  it("refuses outputs from hosts off the allowlist, and the simulator's own plain-http files", async () => {
    expect(await failedWith('https://replicate.delivery.evil.example/out.png')).toMatchObject({
      code: 'output_host_not_allowed',
    });
    const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'images' } } });
    expect((await stack.waitFor(job.id)).error).toMatchObject({ code: 'output_host_not_allowed' });
  });

  it('refuses plain-http callback URLs at submit, and never delivers to a private address', async () => {
    const plain = await stack.request('/jobs', {
      body: { model: 'a/b', input: {}, callbackUrl: `http://127.0.0.1:${trapPort}/cb` },
    });
    expect(plain).toMatchObject({ status: 422, json: { error: { code: 'validation_failed' } } });
    // A /v1 create's webhook is a callback: the same rule, told with Replicate's field name.
    const plainWebhook = await stack.request('/v1/predictions', {
      body: { version: 'a'.repeat(64), input: {}, webhook: `http://127.0.0.1:${trapPort}/cb` },
    });
    expect(plainWebhook).toMatchObject({
      status: 422,
      json: { code: 'validation_failed', details: [{ path: 'webhook' }] },
    });
    for (const callbackUrl of [`https://127.0.0.1:${trapPort}/cb`, `https://localhost:${trapPort}/cb`]) {
      const job = await stack.submit({ model: 'a/b', input: { simulate: { output: 'none' } }, callbackUrl });
      await eventually(
        async () => (await stack.request(`/jobs/${job.id}`)).json.callback.deliveries.length > 0,
        20_000,
      );
      const [delivery] = (await stack.request(`/jobs/${job.id}`)).json.callback.deliveries;
      expect(delivery).toMatchObject({ status: 0, error: expect.stringContaining('non-public address') });
    }
  });

  it('accepts only webhooks signed with the secret', async () => {
    const body = JSON.stringify({
      id: 'p1',
      status: 'succeeded',
      webhook: `${stack.url}/webhooks/replicate?job=job_x`,
    });
    const sign = (secret: string) => new Webhook(secret).sign('msg_guard', new Date(), body);
    const send = (signature: string, id = 'msg_guard') =>
      fetch(`${stack.url}/webhooks/replicate`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': signature,
        },
        body,
      });
    const forged = await send(sign(`whsec_${Buffer.from('not the secret, not at all').toString('base64')}`));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    expect((await send(sign(stack.webhookSecret))).status).toBeLessThan(300);
  });

  it('never reached the trap', () => {
    expect(trapHits).toBe(0);
  });
});

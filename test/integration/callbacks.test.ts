import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { parseSubmitRequest } from '../../lambdas/core/submit-request';
import { eventually, startTestStack, type TestStack } from '../support/local-stack';

/** Client callbacks: when a job ends, its callbackUrl gets the job, signed, retried with backoff, logged on the job. */
describe('client callbacks (local stack)', () => {
  let stack: TestStack;
  let receiver: Server;
  let receiverUrl = '';
  const received: Array<{ headers: Record<string, string>; body: string }> = [];
  let failNext = 0;
  beforeAll(async () => {
    stack = await startTestStack({ env: { CALLBACK_RETRY_BASE_SECONDS: '1' } });
    receiver = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (failNext > 0) {
        failNext--;
        return void res.writeHead(500).end();
      }
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/jobs`;
  });
  afterAll(async () => {
    await stack.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const verify = async (delivery: { headers: Record<string, string>; body: string }, key = 'key-alice') => {
    const { secret } = (await stack.request('/callbacks/secret', { key })).json;
    return new Webhook(secret).verify(delivery.body, delivery.headers) as {
      type: string;
      job: { id: string; status: string };
    };
  };

  it("POSTs the ended job to callbackUrl, signed with the owner's secret (any Standard Webhooks library verifies it)", async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'images' } },
      callbackUrl: receiverUrl,
    });
    await eventually(() => received.some((delivery) => delivery.body.includes(job.id)));
    const delivery = received.find((d) => d.body.includes(job.id))!;
    const payload = await verify(delivery);
    expect(payload).toMatchObject({ type: 'job.ended', job: { id: job.id, status: 'succeeded' } });
    expect(delivery.headers['webhook-id']).toBe(`msg_${job.id}`);
    await expect(verify(delivery, 'key-bob')).rejects.toThrow(); // another owner's secret does not verify it
    const view = (await stack.request(`/jobs/${job.id}`)).json;
    expect(view.callback).toEqual({
      url: receiverUrl,
      deliveries: [{ at: expect.any(String), attempt: 1, status: 204 }],
    });
  });

  it('retries a failing endpoint with backoff and logs every attempt on the job', async () => {
    failNext = 2;
    const job = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'boom' } }, callbackUrl: receiverUrl });
    await eventually(() => received.some((delivery) => delivery.body.includes(job.id)), 20_000);
    const payload = await verify(received.find((d) => d.body.includes(job.id))!);
    expect(payload.job.status).toBe('failed');
    const view = (await stack.request(`/jobs/${job.id}`)).json;
    expect(view.callback.deliveries.map((d: { attempt: number; status: number }) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
  }, 30_000);

  it('sends no callback for a job without callbackUrl, and shows callback: null', async () => {
    const job = await stack.submit({ model: 'a/b', input: {} });
    expect((await stack.waitFor(job.id)).callback).toBeNull();
  });

  it('refuses a callbackUrl that is not an absolute http(s) URL, and plain http where https is required (AWS)', async () => {
    for (const callbackUrl of ['not a url', 'ftp://x/y', 'https://user:pw@example.com/', '/relative']) {
      expect((await stack.request('/jobs', { body: { model: 'a/b', input: {}, callbackUrl } })).status).toBe(422);
    }
    expect(() =>
      parseSubmitRequest(JSON.stringify({ model: 'a/b', input: {}, callbackUrl: 'http://example.com/x' }), {
        callbackHttpsOnly: true,
      }),
    ).toThrow(/https/);
  });
});

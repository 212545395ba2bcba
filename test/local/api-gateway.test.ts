import { request } from 'node:http';
import { startApiGateway } from '../../local/api-gateway';
import type { RouteModel } from '../../local/cloud/app-model';

/** The local API Gateway on its own, with a stand-in for the functions behind it (what it sends, what they answer). */
describe('local API Gateway', () => {
  const routes: RouteModel[] = [
    { method: 'POST', path: '/jobs', functionLogicalId: 'Submit', apiKeyRequired: true },
    { method: 'GET', path: '/health', functionLogicalId: 'Status', apiKeyRequired: false },
    { method: 'GET', path: '/bad', functionLogicalId: 'Bad', apiKeyRequired: false },
  ];
  const events: any[] = [];
  let gateway: Awaited<ReturnType<typeof startApiGateway>>;
  beforeAll(async () => {
    gateway = await startApiGateway({
      routes,
      usagePlan: undefined,
      stageName: 'v1',
      apiKeys: new Map([['key-alice', 'alice']]),
      port: 0,
      host: '127.0.0.1',
      invoke: async (fn, event) => {
        events.push(event);
        // A function answering something that is not a proxy response (a body that is not a string).
        if (fn === 'Bad') return { statusCode: 200, body: { not: 'a string' } };
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
    });
  });
  afterAll(() => gateway.stop());

  it('puts its own domain in the event, never the client\'s Host header', async () => {
    await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'x-api-key': 'key-alice', host: 'attacker.example:8443' }, body: '{}' });
    const event = events.at(-1);
    expect(event.requestContext.domainName).toBe(new URL(gateway.url).host);
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
  });

  it('passes parameters and headers named after Object.prototype members as plain names (found by the fuzz test)', async () => {
    const response = await fetch(`${gateway.url}/health?constructor=1&toString=2&__proto__=3&constructor=4`, { headers: { constructor: 'x' } });
    expect(response.status).toBe(200);
    const event = JSON.parse(JSON.stringify(events.at(-1)));
    expect(event.queryStringParameters).toEqual(JSON.parse('{"constructor":"4","toString":"2","__proto__":"3"}'));
    expect(event.multiValueQueryStringParameters.constructor).toEqual(['1', '4']);
    expect(event.headers.constructor).toBe('x');
  });

  it('answers 502 to a malformed proxy response, and keeps serving', async () => {
    const bad = await fetch(`${gateway.url}/bad`);
    expect(bad.status).toBe(502);
    expect(await bad.json()).toEqual({ message: 'Internal server error' });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it('matches the path as sent: dot segments are not resolved into another route', async () => {
    // Sent raw: fetch would resolve the dot segments itself.
    const { port } = new URL(gateway.url);
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path: '/jobs/%2e%2e/health', method: 'GET' }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      });
      outgoing.once('error', reject);
      outgoing.end();
    });
    expect(status).toBe(404);
  });

  it('never invokes a keyed route without a valid key, nor with a body over 10 MB', async () => {
    const before = events.length;
    expect((await fetch(`${gateway.url}/jobs`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'x-api-key': 'key-bob' }, body: '{}' })).status).toBe(401);
    const huge = await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'x-api-key': 'key-alice' }, body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect(events.length).toBe(before);
  });

  it('refuses without reading the body of a request it will not serve', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(`${gateway.url}/jobs`, { method: 'POST', headers: { 'content-length': String(1024 ** 3) } }, (response) => {
        resolve(response.statusCode!);
        outgoing.destroy();
      });
      outgoing.once('error', reject);
      outgoing.write(Buffer.alloc(1024)); // a gigabyte announced, a kilobyte sent: the answer must not wait for the rest
    });
    expect(status).toBe(401);
  });
});

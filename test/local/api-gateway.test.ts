import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { propsFromContext } from '../../lib/context-props';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';
import { type ApiGatewayOptions, startApiGateway } from '../../local/api-gateway';
import { type RouteModel, readRoutes } from '../../local/cloud/app-model';
import { consolePage } from '../../local/console-page';
import { FunctionError } from '../../local/lambda/local-function';
import { LOCAL_THROTTLE, localContext } from '../../local/local-context';

/** The local gateway on a free port with a stand-in for the functions: no usage plan and no streaming unless given. */
const standInGateway = (options: Pick<ApiGatewayOptions, 'routes' | 'invoke'> & Partial<ApiGatewayOptions>) =>
  startApiGateway({
    usagePlan: undefined,
    stageName: 'v1',
    apiKeys: new Map(),
    port: 0,
    host: '127.0.0.1',
    invokeWithResponseStream: async () => {
      throw new Error('no streaming route here');
    },
    ...options,
  });

/** The local API Gateway on its own, with a stand-in for the functions behind it (what it sends, what they answer). */
describe('local API Gateway', () => {
  const routes: RouteModel[] = [
    { method: 'POST', path: '/jobs', functionLogicalId: 'Submit', apiKeyRequired: true },
    { method: 'GET', path: '/health', functionLogicalId: 'Status', apiKeyRequired: false },
    { method: 'GET', path: '/bad', functionLogicalId: 'Bad', apiKeyRequired: false },
    { method: 'GET', path: '/stream', functionLogicalId: 'Stream', apiKeyRequired: false, streaming: true },
    { method: 'GET', path: '/no-prelude', functionLogicalId: 'NoPrelude', apiKeyRequired: false, streaming: true },
    { method: 'GET', path: '/throttled', functionLogicalId: 'Throttled', apiKeyRequired: false, streaming: true },
    { method: 'GET', path: '/bad-prelude', functionLogicalId: 'BadPrelude', apiKeyRequired: false, streaming: true },
    { method: 'GET', path: '/endless', functionLogicalId: 'Endless', apiKeyRequired: false, streaming: true },
    { method: 'GET', path: '/cut', functionLogicalId: 'Cut', apiKeyRequired: false, streaming: true },
  ];
  const events: any[] = [];
  let gateway: Awaited<ReturnType<typeof startApiGateway>>;
  beforeAll(async () => {
    gateway = await standInGateway({
      routes,
      apiKeys: new Map([['key-alice', 'alice']]),
      invoke: async (fn, event) => {
        events.push(event);
        // A function answering something that is not a proxy response (a body that is not a string).
        if (fn === 'Bad') return { statusCode: 200, body: { not: 'a string' } };
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
      invokeWithResponseStream: async (fn) => {
        if (fn === 'Throttled')
          throw new FunctionError({ errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' });
        const body = new PassThrough();
        if (fn === 'NoPrelude') body.end('just bytes, no prelude');
        else if (fn === 'BadPrelude')
          body.end(Buffer.concat([Buffer.from('not json'), Buffer.alloc(8), Buffer.from('x')]));
        else if (fn === 'Endless')
          body.write('x'.repeat(70 * 1024)); // no delimiter in 64 KiB, and no end
        else if (fn === 'Cut') {
          body.write(JSON.stringify({ statusCode: 200 }));
          body.write(Buffer.alloc(8));
          body.write('data: one\n\n');
          setTimeout(() => body.destroy(new Error('the function failed mid-stream')), 100);
        } else {
          // The prelude, its 8 NUL bytes, then the body in pieces over time, as a streaming handler writes it.
          body.write(JSON.stringify({ statusCode: 201, headers: { 'content-type': 'text/event-stream' } }));
          body.write(Buffer.alloc(8));
          body.write('data: one\n\n');
          setTimeout(() => body.end('data: two\n\n'), 200);
        }
        return body;
      },
    });
  });
  afterAll(() => gateway.stop());

  it("puts its own domain in the event, never the client's Host header", async () => {
    await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { 'x-api-key': 'key-alice', host: 'attacker.example:8443' },
      body: '{}',
    });
    const event = events.at(-1);
    expect(event.requestContext.domainName).toBe(new URL(gateway.url).host);
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
  });

  it('passes parameters and headers named after Object.prototype members as plain names (found by the fuzz test)', async () => {
    const response = await fetch(`${gateway.url}/health?constructor=1&toString=2&__proto__=3&constructor=4`, {
      headers: { constructor: 'x' },
    });
    expect(response.status).toBe(200);
    const event = JSON.parse(JSON.stringify(events.at(-1)));
    expect(event.queryStringParameters).toEqual(JSON.parse('{"constructor":"4","toString":"2","__proto__":"3"}'));
    expect(event.multiValueQueryStringParameters.constructor).toEqual(['1', '4']);
    expect(event.headers.constructor).toBe('x');
  });

  it("streams a streaming integration's body after its prelude's status and headers, piece by piece", async () => {
    const response = await fetch(`${gateway.url}/stream`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: one\n\n'); // before the function wrote the rest
    let rest = '';
    for (let part = await reader.read(); !part.done; part = await reader.read())
      rest += new TextDecoder().decode(part.value);
    expect(rest).toBe('data: two\n\n');
  });

  it("answers a throttled function with API Gateway's 500, not the function's 429", async () => {
    const response = await fetch(`${gateway.url}/throttled`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });

  it('answers 502 to a streamed response without a prelude, with one that is not JSON, or none in its first 64 KiB', async () => {
    for (const path of ['/no-prelude', '/bad-prelude', '/endless']) {
      const response = await fetch(`${gateway.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(502);
    }
  });

  it("cuts the client's response where the function failed mid-stream (no clean end to mistake for the job's)", async () => {
    const response = await fetch(`${gateway.url}/cut`);
    await expect(response.text()).rejects.toThrow();
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

  it('answers a path `new URL` cannot parse (`//`) with 404, console hook included, and keeps serving (found by an attack)', async () => {
    const withConsole = await standInGateway({
      routes,
      invoke: async () => ({ statusCode: 200, body: '{}' }),
      extra: consolePage('http://127.0.0.1:1'),
    });
    try {
      const { port } = new URL(withConsole.url);
      const raw = (method: string, path: string) =>
        new Promise<number>((resolve, reject) => {
          const outgoing = request({ host: '127.0.0.1', port, path, method }, (response) => {
            response.resume();
            resolve(response.statusCode!);
          });
          outgoing.once('error', reject);
          outgoing.end();
        });
      expect(await raw('GET', '//')).toBe(404);
      expect(await raw('POST', '//')).toBe(404);
      expect(await raw('GET', '//x?a=1')).toBe(404);
      expect(await raw('GET', '/console')).toBe(200);
      expect(await raw('GET', '/health')).toBe(200);
    } finally {
      await withConsole.stop();
    }
  });

  it('never invokes a keyed route without a valid key, nor with a body over 10 MB', async () => {
    const before = events.length;
    expect((await fetch(`${gateway.url}/jobs`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(
      (await fetch(`${gateway.url}/jobs`, { method: 'POST', headers: { 'x-api-key': 'key-bob' }, body: '{}' })).status,
    ).toBe(401);
    const huge = await fetch(`${gateway.url}/jobs`, {
      method: 'POST',
      headers: { 'x-api-key': 'key-alice' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(huge.status).toBe(413);
    expect(events.length).toBe(before);
  });

  it('refuses without reading the body of a request it will not serve', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(
        `${gateway.url}/jobs`,
        { method: 'POST', headers: { 'content-length': String(1024 ** 3) } },
        (response) => {
          resolve(response.statusCode!);
          outgoing.destroy();
        },
      );
      outgoing.once('error', reject);
      outgoing.write(Buffer.alloc(1024)); // a gigabyte announced, a kilobyte sent: the answer must not wait for the rest
    });
    expect(status).toBe(401);
  });
});

/** The stage's method throttles, which bound the routes no API key (so no usage plan) covers. */
describe('local API Gateway: stage method throttling', () => {
  const ok = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  const withGateway = async (routes: RouteModel[], use: (url: string) => Promise<void>, invoke = ok) => {
    const gateway = await standInGateway({ routes, invoke });
    try {
      await use(gateway.url);
    } finally {
      await gateway.stop();
    }
  };
  /** Routes as a template synthesized with this context declares them (no bundling: only the API is read). */
  const templateRoutes = (context: Record<string, string>) => {
    const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    return readRoutes(
      Template.fromStack(new ReplicateJobsStack(app, 'Throttles', { jobs: propsFromContext(app.node) })).toJSON()
        .Resources,
    );
  };
  const statuses = (url: string, path: string, count: number, method = 'GET') =>
    Promise.all(
      Array.from({ length: count }, () =>
        fetch(`${url}${path}`, { method, body: method === 'POST' ? '{}' : undefined }).then(async (r) => ({
          status: r.status,
          body: await r.text(),
        })),
      ),
    );

  it("answers 429 Too Many Requests past an unauthenticated route's burst, without invoking its function; other methods keep their own bucket", async () => {
    let invoked = 0;
    const routes: RouteModel[] = [
      {
        method: 'GET',
        path: '/health',
        functionLogicalId: 'Status',
        apiKeyRequired: false,
        throttle: { rateLimit: 0.01, burstLimit: 2 },
      },
      {
        method: 'POST',
        path: '/webhooks/replicate',
        functionLogicalId: 'Webhook',
        apiKeyRequired: false,
        throttle: { rateLimit: 0.01, burstLimit: 2 },
      },
    ];
    await withGateway(
      routes,
      async (url) => {
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await fetch(`${url}/health`));
        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
        expect(await answers[2].json()).toEqual({ message: 'Too Many Requests' });
        expect(invoked).toBe(2);
        expect((await fetch(`${url}/webhooks/replicate`, { method: 'POST', body: '{}' })).status).toBe(200);
      },
      async () => {
        invoked++;
        return ok();
      },
    );
  });

  it("reads each unauthenticated route's throttle from the deployed template, and enforces it", async () => {
    const routes = templateRoutes({});
    const throttleOf = (method: string, path: string) =>
      routes.find((route) => route.method === method && route.path === path)!.throttle;
    expect(throttleOf('POST', '/webhooks/replicate')).toEqual({ rateLimit: 100, burstLimit: 200 });
    expect(throttleOf('GET', '/health')).toEqual({ rateLimit: 10, burstLimit: 20 });
    expect(throttleOf('GET', '/openapi.json')).toEqual({ rateLimit: 10, burstLimit: 20 });
    for (const route of routes.filter((r) => r.apiKeyRequired)) expect(route.throttle).toBeUndefined(); // the usage plan's
    await withGateway(routes, async (url) => {
      const answers = await statuses(url, '/health', 40);
      const passed = answers.filter((answer) => answer.status === 200).length;
      expect(passed).toBeGreaterThanOrEqual(20);
      expect(passed).toBeLessThan(40);
      expect(
        answers
          .filter((answer) => answer.status === 429)
          .every((answer) => answer.body === '{"message":"Too Many Requests"}'),
      ).toBe(true);
    });
  });

  it('leaves end-to-end suites unthrottled under the local context (npm start, test stacks)', async () => {
    const routes = templateRoutes(localContext({ env: {}, consumerTimeoutSeconds: 30 }));
    for (const route of routes.filter((r) => !r.apiKeyRequired)) {
      expect(route.throttle).toEqual({ rateLimit: LOCAL_THROTTLE.rateLimit, burstLimit: LOCAL_THROTTLE.burstLimit });
    }
    await withGateway(routes, async (url) => {
      const answers = await statuses(url, '/webhooks/replicate', 300, 'POST');
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
    });
  });
});

describe('local API Gateway: a Lambda authorizer with the API key source AUTHORIZER', () => {
  const routes: RouteModel[] = [
    {
      method: 'GET',
      path: '/jobs',
      functionLogicalId: 'Status',
      apiKeyRequired: true,
      authorizerFunctionLogicalId: 'Auth',
    },
  ];
  let answer: () => Promise<unknown>;
  const seen: any[] = [];
  let gateway: Awaited<ReturnType<typeof startApiGateway>>;
  beforeAll(async () => {
    gateway = await standInGateway({
      routes,
      apiKeySource: 'AUTHORIZER',
      apiKeys: new Map([['key-alice', 'alice']]),
      invoke: async (fn, event) => {
        if (fn === 'Auth') return answer();
        seen.push(event);
        return { statusCode: 200, body: '{}' };
      },
    });
  });
  afterAll(() => gateway.stop());
  const allow = (key?: string) => async () => ({
    principalId: 'p',
    ...(key ? { usageIdentifierKey: key } : {}),
    policyDocument: {
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*' }],
    },
  });

  it("takes the key from the authorizer's answer, not from the header, and names its owner", async () => {
    answer = allow('key-alice');
    expect((await fetch(`${gateway.url}/jobs`)).status).toBe(200);
    expect(seen.at(-1).requestContext.identity.apiKeyId).toBe('alice');
    answer = allow('not-a-key');
    expect((await fetch(`${gateway.url}/jobs`, { headers: { 'x-api-key': 'key-alice' } })).status).toBe(401);
  });

  it('answers 401 to Unauthorized, 403 to a policy that does not allow the method, 500 to a failed authorizer', async () => {
    answer = async () => {
      throw new FunctionError({ errorType: 'Error', errorMessage: 'Unauthorized' });
    };
    expect((await fetch(`${gateway.url}/jobs`)).status).toBe(401);
    answer = async () => ({
      principalId: 'p',
      usageIdentifierKey: 'key-alice',
      policyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:other/*' }],
      },
    });
    expect((await fetch(`${gateway.url}/jobs`)).status).toBe(403);
    answer = async () => {
      throw new FunctionError({ errorType: 'Error', errorMessage: 'boom' });
    };
    expect((await fetch(`${gateway.url}/jobs`)).status).toBe(500);
    answer = async () => 'not a policy';
    expect((await fetch(`${gateway.url}/jobs`)).status).toBe(500);
  });
});

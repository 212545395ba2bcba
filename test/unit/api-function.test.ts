import type { CreatePredictionRequest } from '../../lambdas/core/ports';
import * as status from '../../lambdas/functions/status';
import * as submit from '../../lambdas/functions/submit';
import * as webhook from '../../lambdas/functions/webhook';
import type { ApiEvent } from '../../lambdas/http/api-event';
import { apiFunction } from '../../lambdas/http/api-function';
import { OPERATIONS } from '../../lambdas/operations';
import { operationHandler } from '../support/api-handlers';
import { fakeDependencies } from '../support/fake-ports';
import { OWNER, seedJob } from './use-cases/builders';

/**
 * The one HTTP adapter, driven as API Gateway drives it, over fake ports: what every route shares (the success
 * status, the default headers, the mapping of refusals and other errors, the API key check, the base URL).
 */
function event(fields: Partial<ApiEvent> & { owner?: string | null; fullPath?: string } = {}): ApiEvent {
  const { owner = OWNER, fullPath, ...rest } = fields;
  const path = rest.path ?? '/jobs';
  return {
    body: null,
    isBase64Encoded: false,
    headers: {},
    pathParameters: null,
    queryStringParameters: null,
    path,
    requestContext: {
      domainName: 'api.example',
      path: fullPath ?? `/v1${path}`,
      stage: 'v1',
      identity: { apiKeyId: owner },
    },
    ...rest,
  };
}

const SUBMIT_BODY = JSON.stringify({ model: 'acme/painter', input: { prompt: 'a lighthouse' } });
const json = (body: string) => JSON.parse(body);

describe('the HTTP adapter', () => {
  it("answers an operation's own success status, JSON that no cache keeps, and the operation's headers", async () => {
    const deps = fakeDependencies();
    const response = await operationHandler('submitJob', deps)(event({ body: SUBMIT_BODY }));
    expect(response.statusCode).toBe(202);
    const { id } = json(response.body);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      location: `/jobs/${id}`,
    });
    expect(json(response.body)).toMatchObject({ id, status: 'queued', model: 'acme/painter' });
  });

  it("answers a refusal with its code's status, and logs no error for it", async () => {
    const deps = fakeDependencies();
    const response = await operationHandler(
      'getJob',
      deps,
    )(event({ path: '/jobs/job_nope', pathParameters: { id: 'job_nope' } }));
    expect(response.statusCode).toBe(404);
    expect(json(response.body)).toEqual({ error: { code: 'not_found', message: 'No such job' } });
    expect(deps.log.messages('error')).toEqual([]);
    // The operation lists the code it answered (else the adapter warns that its contract is out of date).
    expect(deps.log.messages('warn')).toEqual([]);
  });

  it('answers any other error with a 500 that leaks nothing, and logs it with the operation', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    jest.spyOn(deps.jobs, 'get').mockRejectedValue(new Error('connect ECONNREFUSED 10.0.0.7 (table jobs-secret)'));
    const response = await operationHandler(
      'getJob',
      deps,
    )(event({ path: `/jobs/${job.id}`, pathParameters: { id: job.id } }));
    expect(response.statusCode).toBe(500);
    expect(json(response.body)).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side' },
    });
    expect(response.body).not.toContain('ECONNREFUSED');
    const [logged] = deps.log.lines.filter((line) => line.level === 'error');
    expect(logged).toMatchObject({ message: 'request failed unexpectedly', fields: { operation: 'getJob' } });
    expect(String(logged.fields.error)).toContain('ECONNREFUSED');
  });

  it('refuses a route that requires a key when API Gateway gave no key id, before the use case runs', async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    const lookUp = jest.spyOn(deps.jobs, 'get');
    for (const owner of [null, '']) {
      const response = await operationHandler(
        'getJob',
        deps,
      )(event({ owner, path: `/jobs/${job.id}`, pathParameters: { id: job.id } }));
      expect(response.statusCode).toBe(401);
      expect(json(response.body).error.code).toBe('unauthorized');
    }
    expect(lookUp).not.toHaveBeenCalled();
    // A route without a key answers without one.
    const health = await operationHandler('health', deps)(event({ owner: null, path: '/health' }));
    expect(health.statusCode).toBe(200);
  });

  it("builds the webhook URL from the base URL the client reached: stage prefix, X-Forwarded-Proto's scheme", async () => {
    const webhookOf = async (fields: Partial<ApiEvent> & { fullPath?: string }) => {
      const deps = fakeDependencies();
      const response = await operationHandler('submitJob', deps)(event({ body: SUBMIT_BODY, ...fields }));
      expect(response.statusCode).toBe(202);
      const [request] = deps.replicate.callsOf('createPrediction') as CreatePredictionRequest[];
      return request.webhook.replace(/\?.*/, '');
    };
    expect(await webhookOf({})).toBe('https://api.example/v1/webhooks/replicate');
    // A custom domain's base path, and no stage in the URL.
    expect(await webhookOf({ fullPath: '/replicate/jobs' })).toBe('https://api.example/replicate/webhooks/replicate');
    expect(await webhookOf({ fullPath: '/jobs' })).toBe('https://api.example/webhooks/replicate');
    // Plain http only when the gateway says so (the local one); anything else is https.
    expect(await webhookOf({ headers: { 'X-Forwarded-Proto': 'http' } })).toBe(
      'http://api.example/v1/webhooks/replicate',
    );
    expect(await webhookOf({ headers: { 'x-forwarded-proto': 'ftp' } })).toBe(
      'https://api.example/v1/webhooks/replicate',
    );
  });

  it('decodes a body API Gateway encoded in base64', async () => {
    const deps = fakeDependencies();
    const response = await operationHandler(
      'submitJob',
      deps,
    )(event({ body: Buffer.from(SUBMIT_BODY).toString('base64'), isBase64Encoded: true }));
    expect(response.statusCode).toBe(202);
    const [request] = deps.replicate.callsOf('createPrediction') as CreatePredictionRequest[];
    expect(request).toMatchObject({ model: 'acme/painter', input: { prompt: 'a lighthouse' } });
  });
});

describe('apiFunction', () => {
  it('serves the operations of its function by resource and method, and answers 404 for any other', async () => {
    const deps = fakeDependencies();
    const served = apiFunction(status.operations, deps, { operations: () => OPERATIONS });
    const health = await served({ ...event({ owner: null, path: '/health' }), resource: '/health', httpMethod: 'GET' });
    expect(health.statusCode).toBe(200);
    expect(json(health.body)).toEqual({ status: 'ok' });
    // POST /jobs is the submit function's, not this one's.
    const other = await served({ ...event({ body: SUBMIT_BODY }), resource: '/jobs', httpMethod: 'POST' });
    expect(other.statusCode).toBe(404);
    expect(deps.replicate.callsOf('createPrediction')).toEqual([]);
  });

  it.each([
    ['submit', submit.operations],
    ['status', status.operations],
    ['webhook', webhook.operations],
  ])('the %s entry point serves exactly the operations that name its function', (name, served) => {
    const names = (list: readonly { name: string }[]) => list.map((operation) => operation.name).sort();
    expect(names(served)).toEqual(names(OPERATIONS.filter((operation) => operation.function === name)));
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { JOB_ERROR_CODES } from '../../lambdas/core/errors';
import { API_ERRORS } from '../../lambdas/http/error-status';
import { openApiDocument } from '../../lambdas/http/openapi';
import { OPERATIONS } from '../../lambdas/operations';
import { ROUTES } from '../../lambdas/routes';

const document = openApiDocument(OPERATIONS, 'https://example.com/v1') as any;

/** Every `.ts` file under a folder: the sources the handlers answer from. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
  });
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with the API key schemes: x-api-key, or a Bearer token', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('has exactly the routes of the route table, with their authentication', () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of ROUTES) {
      expect(document.paths[route.path][route.method.toLowerCase()].security).toEqual(
        route.apiKeyRequired ? [{ apiKey: [] }, { bearer: [] }] : [],
      );
    }
  });

  it('lists every error code the API has, each under its own HTTP status', () => {
    expect(document.components.schemas.ErrorCode.enum.sort()).toEqual(Object.keys(API_ERRORS).sort());
    for (const route of ROUTES) {
      const responses = document.paths[route.path][route.method.toLowerCase()].responses;
      for (const code of OPERATIONS.find((operation) => operation.name === route.handler)!.errors)
        expect(responses[API_ERRORS[code]].description).toContain(code);
    }
  });

  it("describes /v1 in Replicate's shapes: predictions, their pages, and errors as problem details", () => {
    const create = document.paths['/v1/predictions'].post;
    expect(create.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Prediction',
    });
    expect(create.responses['422'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ name: 'Prefer', schema: expect.objectContaining({ pattern: '^wait(=\\d+)?$' }) }),
    );
    expect(create.requestBody.content['application/json'].schema.properties).toHaveProperty('webhook_events_filter');
    expect(document.paths['/v1/predictions'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/PredictionList',
    });
    expect(document.components.schemas.Prediction.properties.status.enum).toEqual([
      'starting',
      'processing',
      'succeeded',
      'failed',
      'canceled',
    ]);
    expect(document.components.schemas.Problem.required).toEqual(['title', 'detail', 'status', 'code']);
    // Every route under /v1 writes Replicate's errors, and only those.
    for (const operation of OPERATIONS) {
      expect([operation.path, operation.errorShape ?? 'api']).toEqual([
        operation.path,
        operation.path.startsWith('/v1/') ? 'replicate' : 'api',
      ]);
    }
    // Our own routes keep our error shape.
    expect(document.paths['/jobs'].post.responses['422'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
  });

  it("lists every code a failed job's error can carry", () => {
    expect(document.components.schemas.Job.properties.error.anyOf[0].properties.code.enum).toEqual([
      ...JOB_ERROR_CODES,
    ]);
  });

  it('documents no error code the handlers never return, and every code they can return', () => {
    const code = [...sources(join(__dirname, '..', '..', 'lambdas')), ...sources(join(__dirname, '..', '..', 'local'))]
      // The operations' lists and the status table name every code without raising it.
      .filter((text) => !text.includes('export const API_ERRORS') && !text.includes(': Operation = {'))
      .join('\n');
    const refusals = 'RequestRefused|InvalidRequest|Unauthenticated|Conflict|LimitExceeded|Unavailable';
    const raised = new RegExp(`new (?:${refusals})\\(\\s*'([a-z_]+)'`, 'g');
    const returned = new Set([...code.matchAll(raised)].map((match) => match[1]));
    if (code.includes('new NotFound(')) returned.add('not_found');
    if (code.includes("new RequestRefused('internal_error'")) returned.add('internal_error');
    for (const name of Object.keys(API_ERRORS))
      expect([name, returned.has(name) || code.includes(`'${name}' as`)]).toEqual([name, true]);
    const documented = new Set(OPERATIONS.flatMap((operation) => operation.errors));
    for (const name of returned) {
      if (name === 'method_not_allowed') continue; // answered by the router, for any route
      expect(documented).toContain(name);
    }
  });

  it('requires the API key on every route but the health check and the webhook (which checks a signature)', () => {
    const open = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { security: unknown[] }>)
        .filter(([, operation]) => operation.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual(['GET /health', 'GET /openapi.json', 'POST /webhooks/replicate']);
  });

  it("documents each operation's parameters: path ones required, the Idempotency-Key header, the list query", () => {
    const parameters = (path: string, method: string) => document.paths[path][method].parameters;
    const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
    expect(parameters('/jobs/{id}', 'get')).toEqual([id]);
    expect(parameters('/jobs/{id}/cancel', 'post')).toEqual([id]);
    expect(parameters('/jobs', 'post')).toEqual([
      { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
      { name: 'Prefer', in: 'header', required: false, schema: expect.objectContaining({ pattern: '^wait=\\d+$' }) },
    ]);
    // With Prefer: wait, a job that ended in time is answered 200, with the same schema as the 202.
    expect(document.paths['/jobs'].post.responses['200'].content).toEqual(
      document.paths['/jobs'].post.responses['202'].content,
    );
    const query = parameters('/jobs', 'get');
    expect(query.map((p: any) => [p.name, p.in, p.required])).toEqual([
      ['status', 'query', false],
      ['limit', 'query', false],
      ['cursor', 'query', false],
    ]);
    expect(query.find((p: any) => p.name === 'limit').schema).toMatchObject({ minimum: 1, maximum: 100 });
    expect(document.paths['/health'].get.parameters).toBeUndefined();
  });

  it('lists under each operation the codes it answers (a code dropped from one operation shows here)', () => {
    const codesOf = (path: string, method: string) =>
      Object.entries(document.paths[path][method].responses)
        .filter(([status]) => Number(status) >= 400)
        .flatMap(([, response]) => (response as { description: string }).description.split(', '))
        .sort();
    const replicate = ['replicate_auth_failed', 'replicate_rate_limited', 'replicate_unavailable'];
    expect(codesOf('/jobs/{id}', 'get')).toEqual(['internal_error', 'not_found', 'unauthorized']);
    expect(codesOf('/jobs', 'get')).toEqual(['internal_error', 'invalid_query', 'unauthorized']);
    expect(codesOf('/jobs', 'post')).toEqual(
      [
        'body_too_large',
        'idempotency_key_reused',
        'internal_error',
        'invalid_idempotency_key',
        'invalid_json',
        'owner_limit_exceeded',
        'replicate_rejected_input',
        'unauthorized',
        'unknown_upload',
        'validation_failed',
        // Not replicate_rate_limited: a submission Replicate throttles waits for capacity (202).
        ...replicate.filter((code) => code !== 'replicate_rate_limited'),
      ].sort(),
    );
    expect(codesOf('/jobs/{id}/cancel', 'post')).toEqual(
      expect.arrayContaining(['job_already_finished', 'not_found', 'submission_pending', 'unauthorized', ...replicate]),
    );
    expect(codesOf('/webhooks/replicate', 'post')).toEqual(
      [
        'body_too_large',
        'invalid_prediction',
        'invalid_signature',
        'queue_unavailable',
        'webhook_not_configured',
      ].sort(),
    );
    expect(codesOf('/health', 'get')).toEqual([]);
    expect(codesOf('/uploads', 'post')).toEqual(
      ['body_too_large', 'internal_error', 'invalid_json', 'unauthorized', 'validation_failed'].sort(),
    );
    expect(codesOf('/jobs/{id}', 'delete')).toEqual(
      ['internal_error', 'not_found', 'submission_pending', 'unauthorized', ...replicate].sort(),
    );
    expect(document.paths['/jobs/{id}'].delete.responses['204']).not.toHaveProperty('content');
    expect(codesOf('/jobs/{id}/retry', 'post')).toEqual(
      expect.arrayContaining(['job_not_retryable', 'not_found', 'unknown_upload']),
    );
    expect(document.paths['/uploads'].post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Upload',
    });
  });

  it('describes the event stream: text/event-stream, the 204 for a client that saw the end, Last-Event-ID, partialOutput', () => {
    const watch = document.paths['/jobs/{id}/events'].get;
    expect(Object.keys(watch.responses[200].content)).toEqual(['text/event-stream']);
    expect(watch.responses[204].content).toBeUndefined();
    expect(watch.responses[404].description).toBe('not_found');
    expect(watch.parameters.map((p: any) => p.name)).toEqual(['id', 'Last-Event-ID']);
    expect(document.components.schemas.Job.properties).toHaveProperty('partialOutput');
  });

  it('describes the submit body with the same schema the handler validates with', () => {
    const body = document.paths['/jobs'].post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(body.properties).sort()).toEqual([
      'callbackUrl',
      'deployment',
      'derivatives',
      'input',
      'metadata',
      'model',
      'retentionDays',
      'timeoutSeconds',
      'version',
      'webhookEvents',
    ]);
    expect(body.required).toEqual(['input']);
    expect(body.properties.webhookEvents.items.enum).toEqual(['start', 'output', 'logs', 'completed']);
    expect(document.paths['/jobs'].get.parameters.map((p: any) => p.name).sort()).toEqual([
      'cursor',
      'limit',
      'status',
    ]);
  });
});

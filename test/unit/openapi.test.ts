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
  it('is OpenAPI 3.1 with the API key scheme', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
  });

  it('has exactly the routes of the route table, with their authentication', () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of ROUTES) {
      expect(document.paths[route.path][route.method.toLowerCase()].security).toEqual(
        route.apiKeyRequired ? [{ apiKey: [] }] : [],
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

  it('describes the submit body with the same schema the handler validates with', () => {
    const body = document.paths['/jobs'].post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(body.properties).sort()).toEqual([
      'callbackUrl',
      'input',
      'metadata',
      'model',
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

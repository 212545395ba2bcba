import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { API_ERRORS, JOB_ERROR_CODES } from '../../lambdas/core/errors';
import { OPERATIONS, openApiDocument } from '../../lambdas/openapi';
import { ROUTES } from '../../lambdas/routes';

const document = openApiDocument('https://example.com/v1') as any;

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
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods as object).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of ROUTES) {
      expect(document.paths[route.path][route.method.toLowerCase()].security).toEqual(route.apiKeyRequired ? [{ apiKey: [] }] : []);
    }
  });

  it('lists every error code the API has, each under its own HTTP status', () => {
    expect(document.components.schemas.ErrorCode.enum.sort()).toEqual(Object.keys(API_ERRORS).sort());
    for (const route of ROUTES) {
      const responses = document.paths[route.path][route.method.toLowerCase()].responses;
      for (const code of OPERATIONS[route.handler].errors) expect(responses[API_ERRORS[code]].description).toContain(code);
    }
  });

  it("lists every code a failed job's error can carry", () => {
    expect(document.components.schemas.Job.properties.error.anyOf[0].properties.code.enum).toEqual([...JOB_ERROR_CODES]);
  });

  it('documents no error code the handlers never return, and every code they can return', () => {
    const code = [...sources(join(__dirname, '..', '..', 'lambdas')), ...sources(join(__dirname, '..', '..', 'local'))]
      .filter((text) => !text.includes('export const OPERATIONS'))
      .join('\n');
    for (const name of Object.keys(API_ERRORS)) expect(code).toMatch(new RegExp(`ApiError\\(\\s*'${name}'|'${name}' as`));
    const returned = new Set([...code.matchAll(/new ApiError\(\s*'([a-z_]+)'/g)].map((match) => match[1]));
    const documented = new Set(Object.values(OPERATIONS).flatMap((operation) => operation.errors));
    for (const name of returned) {
      if (name === 'method_not_allowed') continue; // answered by the router, for any route
      expect(documented).toContain(name);
    }
  });

  it('describes the submit body with the same schema the handler validates with', () => {
    const body = document.paths['/jobs'].post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(body.properties).sort()).toEqual(['callbackUrl', 'input', 'metadata', 'model', 'timeoutSeconds', 'version', 'webhookEvents']);
    expect(body.required).toEqual(['input']);
    expect(body.properties.webhookEvents.items.enum).toEqual(['start', 'output', 'logs', 'completed']);
    expect(document.paths['/jobs'].get.parameters.map((p: any) => p.name).sort()).toEqual(['cursor', 'limit', 'status']);
  });
});

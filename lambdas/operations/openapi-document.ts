import { openApiDocument } from '../http/openapi';
import type { Operation } from './operation';

/** Per set of dependencies (one per container; several in a test process, each with its own public URL). */
const documents = new WeakMap<object, Record<string, unknown>>();

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the operations, once per container. */
export const openApiOperation: Operation = {
  name: 'openapi',
  method: 'GET',
  path: '/openapi.json',
  function: 'status',
  apiKeyRequired: false,
  summary: 'This document',
  success: { status: 200, description: 'OpenAPI 3.1', schema: 'openapi' },
  errors: [],
  async handle(request, deps, api) {
    let document = documents.get(deps);
    if (!document) {
      document = openApiDocument(api.operations(), deps.settings.publicUrl ?? request.baseUrl);
      documents.set(deps, document);
    }
    return { body: document, headers: { 'cache-control': 'max-age=300' } };
  },
};

import type { HttpResponse } from '../core/http';
import { openApiDocument } from '../openapi';
import { apiBaseUrl, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, built once per container. */
export const openapi = (deps: Pick<Dependencies, 'settings'>) => {
  let document: string | undefined;
  return async (event: ApiEvent): Promise<HttpResponse> => {
    document ??= JSON.stringify(openApiDocument(deps.settings.publicUrl ?? apiBaseUrl(event)));
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' }, body: document };
  };
};

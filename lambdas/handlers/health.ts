import { jsonResponse, type HttpResponse } from '../core/http';
import { openApiDocument } from '../openapi';
import { callbackSecretFor } from '../core/callback-signing';
import { apiBaseUrl, failureResponse, ownerOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';

/** `GET /health`: answering at all means the function runs and its configuration loaded. */
export const health = () => async (): Promise<HttpResponse> => jsonResponse(200, { status: 'ok' });

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, built once per container. */
export const openapi = (deps: Pick<Dependencies, 'settings'>) => {
  let document: string | undefined;
  return async (event: ApiEvent): Promise<HttpResponse> => {
    document ??= JSON.stringify(openApiDocument(deps.settings.publicUrl ?? apiBaseUrl(event)));
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' }, body: document };
  };
};

/** `GET /callbacks/secret`: the caller's own callback signing secret (`whsec_…`), to verify callbacks with. */
export const callbackSecret = (deps: Dependencies) => async (event: ApiEvent): Promise<HttpResponse> => {
  try {
    return jsonResponse(200, { secret: callbackSecretFor(await deps.secrets.callbackMasterKey(), ownerOf(event)) });
  } catch (error) {
    return failureResponse(deps.log, error);
  }
};

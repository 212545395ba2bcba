import { callbackSecretFor } from '../core/callback-signing';
import { jsonResponse, type HttpResponse } from '../core/http';
import { failureResponse, ownerOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';

/** `GET /callbacks/secret`: the caller's own callback signing secret (`whsec_…`), to verify callbacks with. */
export const callbackSecret = (deps: Dependencies) => async (event: ApiEvent): Promise<HttpResponse> => {
  try {
    return jsonResponse(200, { secret: callbackSecretFor(await deps.secrets.callbackMasterKey(), ownerOf(event)) });
  } catch (error) {
    return failureResponse(deps.log, error);
  }
};

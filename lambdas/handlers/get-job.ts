import { jsonResponse, type HttpResponse } from '../core/http';
import { failureResponse, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';

/** `GET /jobs/{id}`: the owner's job, with presigned URLs of its stored outputs. */
export const getJob =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    try {
      return jsonResponse(200, await presentJob(deps, await ownedJob(deps, event)));
    } catch (error) {
      return failureResponse(deps.log, error);
    }
  };

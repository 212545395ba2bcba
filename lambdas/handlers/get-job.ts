import { ApiError } from '../core/errors';
import { jsonResponse, type HttpResponse } from '../core/http';
import { JOB_ID } from '../core/ids';
import { failureResponse, ownerOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';

/** `GET /jobs/{id}`: the owner's job, or 404 for anything else (malformed ids never reach the table). */
export const getJob =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    try {
      const owner = ownerOf(event);
      const id = event.pathParameters?.id ?? '';
      const job = JOB_ID.test(id) ? await deps.jobs.get(id) : undefined;
      // Another owner's job is indistinguishable from no job: 404, never 403.
      if (!job || job.owner !== owner) throw new ApiError('not_found', 'No such job');
      return jsonResponse(200, await presentJob(deps, job));
    } catch (error) {
      return failureResponse(deps.log, error);
    }
  };

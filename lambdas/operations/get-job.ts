import { getJob } from '../use-cases/get-job';
import type { Operation } from './operation';

/** `GET /jobs/{id}`: the owner's job, with presigned URLs of its stored outputs. */
export const getJobOperation: Operation = {
  name: 'getJob',
  method: 'GET',
  path: '/jobs/{id}',
  function: 'status',
  apiKeyRequired: true,
  summary: 'Get a job, with presigned URLs of its outputs',
  success: { status: 200, description: 'The job', schema: 'job' },
  errors: ['unauthorized', 'not_found', 'internal_error'],
  handle: async (request, deps) => ({ body: await getJob(deps, request.owner, request.pathParameters.id ?? '') }),
};

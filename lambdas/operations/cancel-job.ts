import { cancelJob } from '../use-cases/cancel-job';
import { type Operation, REPLICATE_ERRORS } from './operation';

/** `POST /jobs/{id}/cancel`: cancel at Replicate, then mark the job canceled (idempotent). */
export const cancelJobOperation: Operation = {
  name: 'cancelJob',
  method: 'POST',
  path: '/jobs/{id}/cancel',
  function: 'submit',
  apiKeyRequired: true,
  summary: 'Cancel a job at Replicate and mark it canceled (idempotent)',
  success: { status: 200, description: 'The canceled job', schema: 'job' },
  errors: [
    'unauthorized',
    'not_found',
    'job_already_finished',
    'submission_pending',
    ...REPLICATE_ERRORS,
    'internal_error',
  ],
  handle: async (request, deps) => ({ body: await cancelJob(deps, request.owner, request.pathParameters.id ?? '') }),
};

import { deleteJob } from '../use-cases/delete-job';
import { type Operation, REPLICATE_ERRORS } from './operation';

/** `DELETE /jobs/{id}`: cancel it if it runs, delete everything stored for it; it answers 404 from then on. */
export const deleteJobOperation: Operation = {
  name: 'deleteJob',
  method: 'DELETE',
  path: '/jobs/{id}',
  function: 'submit',
  apiKeyRequired: true,
  summary: 'Delete a job and everything stored for it (idempotent)',
  success: { status: 204, description: 'Deleted (or already deleted)', schema: 'none' },
  errors: ['unauthorized', 'not_found', 'submission_pending', ...REPLICATE_ERRORS, 'internal_error'],
  async handle(request, deps) {
    await deleteJob(deps, request.owner, request.pathParameters.id ?? '');
    return { body: undefined };
  },
};

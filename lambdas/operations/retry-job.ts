import { retryJob } from '../use-cases/retry-job';
import { IDEMPOTENCY_KEY_HEADER, type Operation, REPLICATE_ERRORS } from './operation';

/** `POST /jobs/{id}/retry`: a new job with a failed or canceled job's request; 202 with it and its `Location`. */
export const retryJobOperation: Operation = {
  name: 'retryJob',
  method: 'POST',
  path: '/jobs/{id}/retry',
  function: 'submit',
  apiKeyRequired: true,
  summary: 'Retry a failed or canceled job: a new job with the same request and retryOf naming the old one',
  request: { headers: [IDEMPOTENCY_KEY_HEADER] },
  success: { status: 202, description: 'Accepted: the new job, with a Location header', schema: 'job' },
  errors: [
    'unauthorized',
    'not_found',
    'job_not_retryable',
    'invalid_idempotency_key',
    'idempotency_key_reused',
    'unknown_upload',
    'owner_limit_exceeded',
    'replicate_rejected_input',
    ...REPLICATE_ERRORS.filter((code) => code !== 'replicate_rate_limited'),
    'internal_error',
  ],
  async handle(request, deps) {
    const job = await retryJob(deps, {
      owner: request.owner,
      jobId: request.pathParameters.id ?? '',
      idempotencyKey: request.header('idempotency-key'),
      apiBaseUrl: request.baseUrl,
    });
    return { body: job, headers: { location: `/jobs/${job.id}` } };
  },
};

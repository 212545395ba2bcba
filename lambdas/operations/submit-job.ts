import { parseSubmitRequest, SubmitJobBody } from '../core/submit-request';
import { submitJob } from '../use-cases/submit-job';
import { type Operation, REPLICATE_ERRORS } from './operation';

/** `POST /jobs`: submit a job; 202 with the job and its `Location`. */
export const submitJobOperation: Operation = {
  name: 'submitJob',
  method: 'POST',
  path: '/jobs',
  function: 'submit',
  apiKeyRequired: true,
  summary: 'Submit a job (a Replicate prediction)',
  request: {
    body: SubmitJobBody,
    headers: [{ name: 'Idempotency-Key', schema: { type: 'string', maxLength: 255 } }],
  },
  success: { status: 202, description: 'Accepted: the job, with a Location header', schema: 'job' },
  errors: [
    'unauthorized',
    'invalid_json',
    'invalid_idempotency_key',
    'body_too_large',
    'validation_failed',
    'unknown_upload',
    'idempotency_key_reused',
    'owner_limit_exceeded',
    'replicate_rejected_input',
    // Not `replicate_rate_limited`: a submission Replicate throttles is accepted and waits for capacity.
    ...REPLICATE_ERRORS.filter((code) => code !== 'replicate_rate_limited'),
    'internal_error',
  ],
  async handle(request, deps) {
    const spec = parseSubmitRequest(request.body, { callbackHttpsOnly: deps.settings.callbacks.httpsOnly });
    const job = await submitJob(deps, {
      owner: request.owner,
      spec,
      idempotencyKey: request.header('idempotency-key'),
      apiBaseUrl: request.baseUrl,
    });
    return { body: job, headers: { location: `/jobs/${job.id}` } };
  },
};

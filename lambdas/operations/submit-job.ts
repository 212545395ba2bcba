import { isTerminal } from '../core/job';
import { preferredWaitSeconds } from '../core/prefer-wait';
import { parseSubmitRequest, SubmitJobBody } from '../core/submit-request';
import { submitJobAnswer } from '../use-cases/submit-job';
import { holdUntilEnd } from '../use-cases/wait-for-end';
import { IDEMPOTENCY_KEY_HEADER, type Operation, REPLICATE_ERRORS } from './operation';

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
    headers: [
      IDEMPOTENCY_KEY_HEADER,
      {
        name: 'Prefer',
        schema: {
          type: 'string',
          pattern: '^wait=\\d+$',
          description:
            'wait=N: answer 200 with the job if it ends within N s (at most maxPreferWaitSeconds: 25 by default)',
        },
      },
    ],
  },
  success: { status: 202, description: 'Accepted: the job, with a Location header', schema: 'job' },
  alsoSucceeds: [{ status: 200, description: 'With Prefer: wait=N, the job ended within N s: the finished job' }],
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
    const arrivedAt = deps.clock().getTime();
    const spec = parseSubmitRequest(request.body, { callbackHttpsOnly: deps.settings.callbacks.httpsOnly });
    const answer = await submitJobAnswer(deps, {
      owner: request.owner,
      spec,
      idempotencyKey: request.header('idempotency-key'),
      apiBaseUrl: request.baseUrl,
    });
    const location = { location: `/jobs/${answer.job.id}` };
    const wait = preferredWaitSeconds(request.header('prefer'), { max: deps.settings.maxPreferWaitSeconds });
    if (wait === undefined) return { body: answer.job, headers: location };
    // Prefer: wait=N: 200 with the job once it has ended (outputs stored), or 202 as ever after N seconds.
    const job = await holdUntilEnd(deps, answer, wait, arrivedAt);
    const headers = { ...location, 'preference-applied': `wait=${wait}` };
    return isTerminal(job.status) ? { body: job, headers, status: 200 } : { body: job, headers };
  },
};

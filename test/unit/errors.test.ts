import {
  InvalidRequest,
  JobsError,
  OutputFailure,
  PoisonMessage,
  ReplicateFailure,
  TransferInProgress,
  Unavailable,
} from '../../lambdas/core/errors';

/** The consumer logs these errors whole: a log line must say which failure it was, not just "Error". */
describe('failures name themselves in logs', () => {
  it.each([
    [new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 10), 'ReplicateFailure: Slow down'],
    [new OutputFailure('output_too_large', 'Over 1 GiB', true), 'OutputFailure: Over 1 GiB'],
    [new TransferInProgress(30), "TransferInProgress: Another consumer is copying this job's outputs"],
    [
      new PoisonMessage('The body is not a Replicate prediction'),
      'PoisonMessage: The body is not a Replicate prediction',
    ],
    [new InvalidRequest('invalid_json', 'Not JSON'), 'InvalidRequest: Not JSON'],
    [new Unavailable('queue_unavailable', 'Try later'), 'Unavailable: Try later'],
  ])('%s', (error, logged) => {
    expect(String(error)).toBe(logged);
    expect(error).toBeInstanceOf(JobsError);
  });
});

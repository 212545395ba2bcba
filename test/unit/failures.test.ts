import { OutputFailure, PoisonMessage, ReplicateFailure, TransferInProgress } from '../../lambdas/core/failures';

/** The consumer logs these errors whole: a log line must say which failure it was, not just "Error". */
describe('failures name themselves in logs', () => {
  it.each([
    [new ReplicateFailure('rate_limited', 'Slow down', 429, undefined, 10), 'ReplicateFailure: Slow down'],
    [new OutputFailure('output_too_large', 'Over 1 GiB', true), 'OutputFailure: Over 1 GiB'],
    [new TransferInProgress(30), "TransferInProgress: Another consumer is copying this job's outputs"],
    [new PoisonMessage('The body is not a Replicate prediction'), 'PoisonMessage: The body is not a Replicate prediction'],
  ])('%s', (error, logged) => {
    expect(String(error)).toBe(logged);
  });
});

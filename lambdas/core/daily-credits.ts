import type { Job } from './job';

/**
 * Which ended jobs give their place in the owner's daily count (`maxPerDay`) back, as the apps built on this
 * credit their users: a job that failed before producing anything (Replicate's error, our timeout) was no use to
 * the client, so it is not charged against the day; a job the client canceled was its own choice, so it is.
 * Both are settings (`REFUND_FAILURES_WITHOUT_OUTPUT`, `REFUND_CLIENT_CANCELS`).
 */
export interface CreditRules {
  failuresWithoutOutput: boolean;
  clientCancels: boolean;
}

export const DEFAULT_CREDIT_RULES: CreditRules = { failuresWithoutOutput: true, clientCancels: false };

/** Failures that happen before or while the model runs, not while we store what it made. */
const FAILURES_BEFORE_OUTPUT = new Set(['prediction_failed', 'timeout']);

/** Whether the job's end gives its daily count back under these rules. */
export function refundsDailyCount(
  job: Pick<Job, 'status' | 'error' | 'outputs' | 'output' | 'outputKey' | 'partialOutputSize'>,
  rules: CreditRules,
): boolean {
  if (job.status === 'canceled') return rules.clientCancels;
  if (job.status !== 'failed' || !rules.failuresWithoutOutput) return false;
  // A model that streamed its answer (partial outputs) before failing produced something: the client had it.
  const producedOutput =
    job.outputs.length > 0 ||
    (job.output !== undefined && job.output !== null) ||
    !!job.outputKey ||
    (job.partialOutputSize ?? 0) > 0;
  return !producedOutput && FAILURES_BEFORE_OUTPUT.has(job.error?.code ?? '');
}

import { randomUUID } from 'node:crypto';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';
import { admitWaitingJobs } from '../use-cases/admit-waiting-jobs';

/**
 * Lambda entry point of the admitter, woken by a kick on the admission queue. The kick carries nothing to act on
 * (the waiting line is in the table), so the batch succeeds whether this invocation admitted jobs or found
 * another admitter holding the lease.
 */
export const handler = withMetricsFlush(async () => {
  await admitWaitingJobs(awsDependencies(), { holder: randomUUID() });
});

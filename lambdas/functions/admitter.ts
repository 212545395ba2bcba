import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { presignGet } from '../adapters/s3-presigner';
import { ADMIT_HANDOVER_MS, ADMIT_RUN_BUDGET_MS } from '../core/limits';
import { awsHandler } from '../runtime/aws';
import { admission, jobRepository, ownerQuota, tableClientOf, usageLedger } from '../runtime/ports/dynamo';
import { replicate } from '../runtime/ports/replicate';
import { objectStoreOf } from '../runtime/ports/s3';
import { secrets } from '../runtime/ports/secrets';
import { queuesOf } from '../runtime/ports/sqs';
import { admitWaitingJobs } from '../use-cases/admit-waiting-jobs';

/**
 * The admitter, woken by a kick on the admission queue. The kick carries nothing to act on (the waiting line is
 * in the table), so the batch succeeds whether this invocation admitted jobs or found another admitter holding the
 * lease. It runs until its budget (at most its timeout less ADMIT_HANDOVER_MS), then hands over to a fresh
 * invocation if jobs still wait.
 */
export const handler = awsHandler(
  (container) => {
    const table = tableClientOf(container);
    const { callbacks, admissionKicks } = queuesOf(container);
    const secretStore = secrets(container);
    return {
      jobs: jobRepository(table, container.settings, container.log),
      quota: ownerQuota(table, container.settings), // a refused job's slot
      usage: usageLedger(table, container.settings), // a refused or timed-out job's usage
      admission: admission(table, container.settings),
      admissionKicks,
      callbacks, // a refused job's callback
      secrets: secretStore,
      replicate: replicate(container.settings, secretStore),
      objects: objectStoreOf(container, { presignGet }), // the input's uploads, as URLs Replicate can fetch
    };
  },
  (deps) => async (_event: unknown, context: Context) => {
    const budgetMs = Math.min(ADMIT_RUN_BUDGET_MS, context.getRemainingTimeInMillis() - ADMIT_HANDOVER_MS);
    await admitWaitingJobs(deps, { holder: randomUUID(), budgetMs: Math.max(1_000, budgetMs) });
  },
);

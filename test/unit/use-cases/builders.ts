/** Builders shared by the use-case tests: jobs as stored, prediction events, signed webhooks. */
import { newJobId } from '../../../lambdas/core/ids';
import { type Job, STATUS_RANK } from '../../../lambdas/core/job';
import type { QueueMessage } from '../../../lambdas/core/ports';
import type { Prediction } from '../../../lambdas/core/prediction';
import { parseSigningSecrets, signWebhook } from '../../../lambdas/core/webhook-signature';
import { type FakeDependencies, WEBHOOK_SECRET } from '../../support/fake-ports';

export const OWNER = 'owner-a';
export const OTHER_OWNER = 'owner-b';

/** A job as the table holds it, created now (by the deps' clock) unless told otherwise. */
export function aJob(deps: FakeDependencies, fields: Partial<Job> = {}): Job {
  const now = deps.clock().toISOString();
  const status = fields.status ?? 'queued';
  return {
    id: newJobId(),
    owner: OWNER,
    status,
    rank: STATUS_RANK[status],
    model: 'acme/painter',
    input: { prompt: 'a lighthouse' },
    webhookEvents: ['start', 'completed'],
    outputs: [],
    error: null,
    requestHash: 'hash',
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

/** Seeds a job into the fake table and answers it. */
export const seedJob = (deps: FakeDependencies, fields: Partial<Job> = {}): Job => deps.jobs.seed(aJob(deps, fields));

/** A prediction of `job`, as Replicate sends it (its webhook URL names the job). */
export function predictionOf(job: Job, fields: Partial<Prediction> = {}): Prediction {
  return {
    id: job.predictionId ?? 'pred_1',
    status: 'processing',
    webhook: `https://api.test/webhooks/replicate?job=${job.id}`,
    ...fields,
  };
}

/** The queue message a verified webhook carrying `prediction` becomes. */
export const webhookMessage = (deps: FakeDependencies, prediction: Prediction): QueueMessage => ({
  source: 'webhook',
  webhookId: 'msg_1',
  receivedAt: deps.clock().toISOString(),
  body: JSON.stringify(prediction),
});

/** Headers of a Standard Webhooks delivery of `body`, signed now with `secret`. */
export function signedHeaders(deps: FakeDependencies, body: string, id = 'msg_1', secret = WEBHOOK_SECRET) {
  const timestamp = Math.floor(deps.clock().getTime() / 1000);
  const signature = signWebhook(parseSigningSecrets(secret)[0], id, timestamp, body);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

/** A running job whose prediction is pred_1, with a callback and its in-flight slot taken. */
export function runningJob(deps: FakeDependencies, fields: Partial<Job> = {}): Job {
  deps.quota.of(OWNER).inFlight = 1;
  const job = seedJob(deps, {
    status: 'processing',
    predictionId: 'pred_1',
    callbackUrl: 'https://client.example/cb',
    ...fields,
  });
  deps.time.advance(10);
  return job;
}

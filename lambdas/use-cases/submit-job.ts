import { setTimeout } from 'node:timers/promises';
import { isPaused } from '../core/admission';
import { Conflict, InvalidRequest, LimitExceeded } from '../core/errors';
import { hashJson, IDEMPOTENCY_KEY, idempotentJobId, newJobId } from '../core/ids';
import { type Job, type JobSpec, WEBHOOK_PATH } from '../core/job';
import type { JobView } from '../core/job-view';
import { MAX_SLOT_WAIT_MS } from '../core/limits';
import type { Dependencies } from './dependencies';
import { forgetUploads, useUploads } from './job-uploads';
import { presentJob } from './present-job';
import { checkBudgets, recordSubmittedUsage } from './record-usage';
import { isThrottled, settleFailedCreate, startPrediction } from './start-prediction';
import { waitAfterThrottle, wakeAdmitter } from './wait-for-capacity';

export interface SubmitJobCommand {
  owner: string;
  spec: JobSpec;
  /** The client's `Idempotency-Key`, unchecked: 1–255 printable ASCII characters or `invalid_idempotency_key`. */
  idempotencyKey?: string;
  /** Where Replicate reaches the webhook: the public URL setting, else the API's URL as the client reached it. */
  apiBaseUrl: string;
}

/**
 * Submits a job: validate → take a slot of the owner's limits → record the job → create the prediction now if
 * Replicate's create rate allows, else leave the job waiting for the admitter (202 all the same).
 *
 * Every `upload:` reference in the input must name a finished, unexpired upload of the owner (`unknown_upload`).
 *
 *   client ─► put job ─► capacity now? ─► predictions.create(webhook=…?job=id) ─► set predictionId ─► the job
 *              │ exists: same spec → that job;  │ no: job waits     │ 429 → job waits (Retry-After honoured)
 *              │         other spec → Conflict  │   (waitingSince)  │ refused → job failed, InvalidRequest
 *                                                                   │ no answer / 5xx → job left queued, Unavailable
 */
export async function submitJob(deps: Dependencies, command: SubmitJobCommand): Promise<JobView> {
  return (await submitJobAnswer(deps, command)).job;
}

/** What a submission answers: the job, and whether it was there already (an Idempotency-Key's replay). */
export interface SubmitAnswer {
  job: JobView;
  replayed: boolean;
}

/** `submitJob`, telling a replay from a job it recorded now (a held `Prefer: wait` waits only for the latter). */
export async function submitJobAnswer(deps: Dependencies, command: SubmitJobCommand): Promise<SubmitAnswer> {
  const { owner, spec, idempotencyKey } = command;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new InvalidRequest('invalid_idempotency_key', 'Idempotency-Key must be 1–255 printable ASCII characters');
  }
  const now = deps.clock();
  const webhookBase = deps.settings.publicUrl ?? command.apiBaseUrl;
  const job = newJob(owner, spec, idempotencyKey, now.toISOString(), webhookBase);
  let recorded = false;
  if (idempotencyKey) {
    // A retry of a request already accepted answers from the record, before it could be refused for quota.
    const existing = await deps.jobs.get(job.id);
    recorded = existing !== undefined;
    const retryable = existing?.status === 'failed' && existing.error?.code === 'submit_failed';
    if (existing && !retryable) return { job: await replay(deps, existing, job), replayed: true };
  }
  // Before anything is written or counted: a day over its budget, an unknown upload leave nothing behind.
  await checkBudgets(deps, owner, now);
  await useUploads(deps, owner, job, { keepNotes: recorded });

  const quota = await deps.quota.acquire(owner, now);
  if (!quota.granted) {
    if (!recorded) await forgetUploads(deps, job);
    const what = {
      daily: 'jobs per day',
      in_flight: 'jobs in flight',
      refusals: 'submissions Replicate refused this minute',
    }[quota.limit];
    throw new LimitExceeded(
      'owner_limit_exceeded',
      `Too many ${what} for this API key`,
      { limit: quota.limit },
      quota.retryAfterSeconds,
    );
  }
  job.quotaShard = quota.shard;
  // Jobs already waiting (or a pause Replicate asked for) go first: this one queues behind them.
  const state = await deps.admission.state(now);
  if (state.backlogSince || isPaused(state, now)) job.waitingSince = job.createdAt;
  const outcome = await deps.jobs.create(job);
  if (!outcome.created) {
    await deps.quota.release(owner, { shard: quota.shard, refundDaily: true, countedAt: now });
    return { job: await replay(deps, outcome.existing, job), replayed: true };
  }
  // Counted once per accepted record: a replayed Idempotency-Key never gets here (its create finds the job).
  await recordSubmittedUsage(deps, job);
  if (job.waitingSince) return fresh(waiting(deps, job, now));
  const token = await deps.admission.tryTake(now);
  const untilSlot = token.granted ? token.slotAt - deps.clock().getTime() : 0;
  if (!token.granted || untilSlot > MAX_SLOT_WAIT_MS) {
    // The account's create rate is spent for now: wait for the admitter like the jobs behind it.
    job.waitingSince = job.createdAt;
    if (await deps.jobs.markWaiting(job.id, job.waitingSince)) return fresh(waiting(deps, job, now));
    return fresh(presentJob(deps, (await deps.jobs.get(job.id)) ?? job));
  }
  // The first create of a window goes at once; a later one waits for its place in it (at most MAX_SLOT_WAIT_MS).
  if (untilSlot > 0) await setTimeout(untilSlot);

  try {
    return fresh(presentJob(deps, await startPrediction(deps, job)));
  } catch (error) {
    if (!isThrottled(error)) throw await settleFailedCreate(deps, job, error, { notify: false });
    // It begins to wait now: a running admitter reads new arrivals by when they began to wait.
    await waitAfterThrottle(deps, job.id, deps.clock().toISOString(), error.retryAfterSeconds);
    return fresh(presentJob(deps, (await deps.jobs.get(job.id)) ?? job));
  }
}

/** The answer for a job this submission recorded. */
const fresh = async (view: Promise<JobView>): Promise<SubmitAnswer> => ({ job: await view, replayed: false });

/** A job accepted to wait for capacity: the admitter creates its prediction when the rate allows. */
async function waiting(deps: Dependencies, job: Job, now: Date): Promise<JobView> {
  await wakeAdmitter(deps, now);
  deps.log.info('job waits for capacity', { jobId: job.id, owner: job.owner, model: job.model });
  return presentJob(deps, job);
}

function newJob(
  owner: string,
  spec: JobSpec,
  idempotencyKey: string | undefined,
  now: string,
  webhookBase: string,
): Job {
  const id = idempotencyKey ? idempotentJobId(owner, idempotencyKey) : newJobId();
  return {
    id,
    owner,
    status: 'queued',
    rank: 0,
    ...spec,
    outputs: [],
    error: null,
    requestHash: hashJson(spec),
    idempotencyKey,
    webhookUrl: `${webhookBase}${WEBHOOK_PATH}?job=${id}`,
    createdAt: now,
    updatedAt: now,
  };
}

/** An Idempotency-Key seen before: the same request gets the same job, a different one is a conflict. */
async function replay(deps: Dependencies, existing: Job, attempted: Job): Promise<JobView> {
  if (existing.deletedAt && existing.owner === attempted.owner) {
    throw new Conflict('idempotency_key_reused', 'The job of this Idempotency-Key was deleted; use a new key');
  }
  if (existing.owner !== attempted.owner || existing.requestHash !== attempted.requestHash) {
    throw new Conflict('idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
  }
  return presentJob(deps, existing);
}

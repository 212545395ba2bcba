import { resultKey, retentionTagsOf } from '../../contract/bucket';
import { OutputFailure, PoisonMessage, TransferInProgress } from '../core/errors';
import { JOB_ID } from '../core/ids';
import { type Job, type StoredOutput, storedKeysOf } from '../core/job';
import { MAX_INLINE_OUTPUT_BYTES, MAX_WRITE_ATTEMPTS } from '../core/limits';
import { findOutputFiles } from '../core/outputs';
import { partialOutputOf } from '../core/partial-output';
import type { JobResult, QueueMessage, TransferLease } from '../core/ports';
import { jobIdFromWebhookUrl, type Prediction, parsePrediction } from '../core/prediction';
import { decide, type JobPatch } from '../core/state-machine';
import { laterOf } from '../core/time';
import { copyOutputs, discardCopiesIfEnded } from './copy-outputs';
import type { Dependencies } from './dependencies';
import { jobEnded } from './end-job';

/**
 * What one message has done so far. When its final write loses a race and is retried, outputs it already
 * copied are not copied again, and a copy that already failed for good is not tried again.
 */
interface Progress {
  copied?: StoredOutput[];
  failed?: OutputFailure;
}

/**
 * Applies one prediction event (a webhook, or a poll's answer) to its job through the state machine. Throws
 * PoisonMessage for a message that can never succeed, TransferInProgress while another consumer copies the
 * job's outputs, anything else for a failure worth retrying. `holder` names this delivery (the transfer lease's
 * holder): the queue message's id, the same on every receive of one message.
 */
export async function applyPredictionEvent(deps: Dependencies, message: QueueMessage, holder: string): Promise<void> {
  const prediction = await readPrediction(deps, message);
  const progress: Progress = {};
  let leased = await leaseFirst(deps, message, prediction, holder);
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const job = leased?.job ?? (await findJob(deps, message, prediction));
    if (await applyPrediction(deps, { job, prediction, holder, progress, lease: leased?.lease })) return;
    leased = undefined;
  }
  throw new Error(`The job of prediction ${prediction.id} kept changing under us; retrying the message`);
}

/**
 * The common case, in one request: a `succeeded` event with files for a job the message names. Its lease is taken
 * straight away, on the conditions under which the state machine would finish the job (not ended, this prediction's
 * or none yet), and the write answers with the job. Anything refused (another holder, an ended job, another
 * prediction's job, no such job) falls back to reading the job and deciding as usual.
 */
async function leaseFirst(deps: Dependencies, message: QueueMessage, prediction: Prediction, holder: string) {
  const jobId = message.jobId ?? jobIdFromWebhookUrl(prediction.webhook);
  if (prediction.status !== 'succeeded' || !jobId || !JOB_ID.test(jobId)) return undefined;
  if (findOutputFiles(prediction.output).length === 0) return undefined;
  const { now, until } = leaseTimes(deps);
  return deps.jobs.acquireTransferLease(jobId, prediction.id, holder, now, until);
}

/** The transfer lease runs for the consumer's own timeout, so a crashed holder's lease expires. */
function leaseTimes(deps: Dependencies) {
  const now = deps.clock();
  const until = new Date(now.getTime() + deps.settings.transferLeaseSeconds * 1000).toISOString();
  return { now: now.toISOString(), until };
}

async function readPrediction(deps: Dependencies, message: QueueMessage): Promise<Prediction> {
  const parsed = parsePrediction(message.body ?? (await deps.objects.getText(message.bodyKey!)));
  if (!parsed.ok) throw new PoisonMessage(parsed.reason);
  return parsed.prediction;
}

/**
 * The job a prediction belongs to. The job id comes from the signed body (the webhook URL submit gave
 * Replicate), so it works even when the webhook beat submit's write of the prediction id; else we look the
 * prediction id up.
 */
async function findJob(deps: Dependencies, message: QueueMessage, prediction: Prediction): Promise<Job> {
  const jobId = message.jobId ?? jobIdFromWebhookUrl(prediction.webhook);
  // Only a well-formed id is looked up: anything else is no job of ours (and could not be a table key).
  const job =
    (jobId && JOB_ID.test(jobId) ? await deps.jobs.get(jobId) : undefined) ??
    (await deps.jobs.findByPredictionId(prediction.id));
  if (!job) throw new PoisonMessage(`No job for prediction ${prediction.id}`);
  return job;
}

/** One event applied to the job as last read; `progress` carries over to a retry after a lost race. */
interface Application {
  job: Job;
  prediction: Prediction;
  holder: string;
  progress: Progress;
  /** The transfer lease, when the job was read by taking it (leaseFirst). */
  lease?: TransferLease;
}

/** Answers true when the event is fully handled (applied or rightly ignored), false when a race lost the write. */
async function applyPrediction(deps: Dependencies, application: Application): Promise<boolean> {
  const { job, prediction } = application;
  const now = deps.clock();
  const transition = decide(job, prediction, now);
  const context = { jobId: job.id, predictionId: prediction.id, owner: job.owner, status: prediction.status };
  if (transition.kind === 'ignore') {
    // A running prediction's `output` event says nothing new about its status, but may carry more output.
    if (transition.reason === 'duplicate') await keepPartialOutput(deps, job, prediction, now);
    deps.log.info('prediction event ignored', { ...context, reason: transition.reason });
    return true;
  }
  if (transition.kind === 'advance' || transition.patch.status !== 'succeeded') {
    const outcome = await deps.jobs.advance(job.id, transition.patch);
    if (outcome.applied) {
      deps.log.info('job advanced', { ...context, to: transition.patch.status });
      if (transition.kind === 'finish') await jobEnded(deps, outcome.job);
      else await keepPartialOutput(deps, outcome.job, prediction, now);
    }
    return outcome.applied;
  }
  return succeed(deps, { ...application, patch: transition.patch });
}

/**
 * Keeps the output a running prediction has so far on its job (`partialOutput`), when the event carries more than the
 * job has: a second write after the status one, so a crash between them leaves the status, and the redelivered event
 * (then a duplicate) writes the output.
 */
async function keepPartialOutput(deps: Dependencies, job: Job, prediction: Prediction, now: Date): Promise<void> {
  const partial = partialOutputOf(prediction);
  if (!partial || (job.partialOutputSize ?? 0) >= partial.size) return;
  const updatedAt = laterOf(now.toISOString(), job.updatedAt);
  await deps.jobs.recordPartialOutput(job.id, job.predictionId ?? prediction.id, partial, updatedAt);
}

/** `succeeded` is written only after every output file is in the bucket. */
async function succeed(deps: Dependencies, success: Application & { patch: JobPatch }): Promise<boolean> {
  const { job, prediction, patch, holder, progress } = success;
  const files = findOutputFiles(prediction.output);
  if (!progress.copied && !progress.failed) {
    let lease: TransferLease = success.lease ?? { copied: [] };
    if (files.length > 0 && !success.lease) {
      const { now, until } = leaseTimes(deps);
      const acquired = await deps.jobs.acquireTransferLease(job.id, prediction.id, holder, now, until);
      if (!acquired) {
        const fresh = await deps.jobs.get(job.id);
        if (fresh && fresh.rank > job.rank) return false; // it moved on (finished): re-decide, which ignores it
        throw new TransferInProgress(deps.settings.transferLeaseSeconds);
      }
      lease = acquired.lease;
    }
    try {
      progress.copied = await copyOutputs(deps, job, files, { ...lease, holder });
    } catch (error) {
      if (!(error instanceof OutputFailure) || !error.permanent) throw error;
      deps.log.warn('output cannot be copied; the job fails', {
        jobId: job.id,
        code: error.code,
        reason: error.message,
      });
      progress.failed = error;
    }
  }
  // Copying takes time, and other events may have been written meanwhile: each write after it is stamped
  // with the time it is made, so `updatedAt` stays monotonic without losing the race to such an event.
  const stamped = (written: JobPatch): JobPatch => ({
    ...written,
    updatedAt: laterOf(deps.clock().toISOString(), written.updatedAt),
  });
  if (progress.failed) {
    const { code, message } = progress.failed;
    const outcome = await deps.jobs.advance(job.id, stamped({ ...patch, status: 'failed', error: { code, message } }));
    if (outcome.applied) await jobEnded(deps, outcome.job);
    return outcome.applied;
  }
  const outputs = progress.copied!;
  const result = await resultOf(deps, job, outputs, prediction.output ?? null);
  const outcome = await deps.jobs.advance(job.id, stamped(patch), result);
  if (!outcome.applied) {
    // Lost to another write: if that one ended the job, what this delivery stored belongs to no job.
    const stored = [...storedKeysOf(outputs), ...(result.outputKey ? [result.outputKey] : [])];
    await discardCopiesIfEnded(deps, job.id, stored);
    return false;
  }
  deps.log.info('job succeeded', {
    jobId: job.id,
    predictionId: prediction.id,
    owner: job.owner,
    outputs: outputs.length,
  });
  await jobEnded(deps, outcome.job);
  return true;
}

async function resultOf(deps: Dependencies, job: Job, outputs: StoredOutput[], output: unknown): Promise<JobResult> {
  const json = JSON.stringify(output);
  if (Buffer.byteLength(json, 'utf8') <= MAX_INLINE_OUTPUT_BYTES) return { outputs, output };
  const outputKey = resultKey(job.owner, job.id);
  await deps.objects.putText(outputKey, json, retentionTagsOf(job.retentionDays));
  return { outputs, outputKey };
}

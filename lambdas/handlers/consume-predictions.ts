import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { OutputFailure, PoisonMessage, TransferInProgress } from '../core/failures';
import { JOB_ID } from '../core/ids';
import type { Job, StoredOutput } from '../core/job';
import { findOutputFiles } from '../core/outputs';
import type { JobResult, QueueMessage, TransferLease } from '../core/ports';
import { jobIdFromWebhookUrl, parsePrediction, type Prediction } from '../core/prediction';
import { decide, type JobPatch } from '../core/state-machine';
import { laterOf } from '../core/time';
import { copyOutputs } from './copy-outputs';
import type { Dependencies } from './dependencies';
import { jobEnded } from './job-ended';
import { processBatch } from './sqs-batch';

/** A write refused because another writer got there first is re-decided against the fresh job this often. */
const MAX_ATTEMPTS = 3;

/** The SQS consumer: applies each prediction event to its job; a record that fails is retried alone. */
export const consumePredictions =
  (deps: Dependencies) =>
  (event: SQSEvent): Promise<SQSBatchResponse> =>
    processBatch(event, async (record) => {
      try {
        await consumeRecord(deps, record);
        return true;
      } catch (error) {
        await handleFailure(deps, record, error);
        return false;
      }
    });

async function handleFailure(deps: Dependencies, record: SQSRecord, error: unknown): Promise<void> {
  const context = { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount };
  if (error instanceof TransferInProgress) {
    // A duplicate of a message whose outputs are being copied: it comes back once the lease could have expired,
    // as the backup for a holder that crashed.
    deps.log.info('outputs are being copied by another consumer; retrying later', context);
    await deps.queue.retryLater(record.receiptHandle, error.retryAfterSeconds).catch(() => undefined);
  } else if (error instanceof PoisonMessage) {
    deps.log.error('message can never succeed; it goes to the dead-letter queue after its receives', { ...context, reason: error.message });
  } else {
    deps.log.error('message failed; it will be retried', { ...context, error });
  }
}

/**
 * What one message has done so far. When its final write loses a race and is retried, outputs it already
 * copied are not copied again, and a copy that already failed for good is not tried again.
 */
interface Progress {
  copied?: StoredOutput[];
  failed?: OutputFailure;
}

async function consumeRecord(deps: Dependencies, record: SQSRecord): Promise<void> {
  const message = parseMessage(record.body);
  const prediction = await readPrediction(deps, message);
  const progress: Progress = {};
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const job = await findJob(deps, message, prediction);
    if (await applyPrediction(deps, job, prediction, record.messageId, progress)) return;
  }
  throw new Error(`The job of prediction ${prediction.id} kept changing under us; retrying the message`);
}

function parseMessage(body: string): QueueMessage {
  try {
    const message = JSON.parse(body) as QueueMessage;
    if (typeof message === 'object' && message !== null && (message.body || message.bodyKey)) return message;
  } catch {
    // fall through
  }
  throw new PoisonMessage('The queue message is not a prediction event');
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
  const job = (jobId && JOB_ID.test(jobId) ? await deps.jobs.get(jobId) : undefined) ?? (await deps.jobs.findByPredictionId(prediction.id));
  if (!job) throw new PoisonMessage(`No job for prediction ${prediction.id}`);
  return job;
}

/** Answers true when the event is fully handled (applied or rightly ignored), false when a race lost the write. */
async function applyPrediction(deps: Dependencies, job: Job, prediction: Prediction, holder: string, progress: Progress): Promise<boolean> {
  const now = deps.clock();
  const transition = decide(job, prediction, now);
  const context = { jobId: job.id, predictionId: prediction.id, owner: job.owner, status: prediction.status };
  if (transition.kind === 'ignore') {
    deps.log.info('prediction event ignored', { ...context, reason: transition.reason });
    return true;
  }
  if (transition.kind === 'advance' || transition.patch.status !== 'succeeded') {
    const outcome = await deps.jobs.advance(job.id, transition.patch);
    if (outcome.applied) {
      deps.log.info('job advanced', { ...context, to: transition.patch.status });
      if (transition.kind === 'finish') await jobEnded(deps, outcome.job);
    }
    return outcome.applied;
  }
  return succeed(deps, job, prediction, transition.patch, holder, now, progress);
}

/** `succeeded` is written only after every output file is in the bucket. */
async function succeed(
  deps: Dependencies,
  job: Job,
  prediction: Prediction,
  patch: JobPatch,
  holder: string,
  now: Date,
  progress: Progress,
): Promise<boolean> {
  const files = findOutputFiles(prediction.output);
  if (!progress.copied && !progress.failed) {
    let lease: TransferLease = { copied: [] };
    if (files.length > 0) {
      const leaseSeconds = deps.settings.transferLeaseSeconds;
      const until = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
      const acquired = await deps.jobs.acquireTransferLease(job.id, holder, now.toISOString(), until);
      if (!acquired) {
        const fresh = await deps.jobs.get(job.id);
        if (fresh && fresh.rank > job.rank) return false; // it moved on (finished): re-decide, which ignores it
        throw new TransferInProgress(leaseSeconds);
      }
      lease = acquired;
    }
    try {
      progress.copied = await copyOutputs(deps, job, files, { ...lease, holder });
    } catch (error) {
      if (!(error instanceof OutputFailure) || !error.permanent) throw error;
      deps.log.warn('output cannot be copied; the job fails', { jobId: job.id, code: error.code, reason: error.message });
      progress.failed = error;
    }
  }
  // Copying takes time, and other events may have been written meanwhile: each write after it is stamped
  // with the time it is made, so `updatedAt` stays monotonic without losing the race to such an event.
  const stamped = (written: JobPatch): JobPatch => ({ ...written, updatedAt: laterOf(deps.clock().toISOString(), written.updatedAt) });
  if (progress.failed) {
    const { code, message } = progress.failed;
    const outcome = await deps.jobs.advance(job.id, stamped({ ...patch, status: 'failed', error: { code, message } }));
    if (outcome.applied) await jobEnded(deps, outcome.job);
    return outcome.applied;
  }
  const outputs = progress.copied!;
  const outcome = await deps.jobs.advance(job.id, stamped(patch), await resultOf(deps, job, outputs, prediction.output ?? null));
  if (outcome.applied) {
    deps.log.info('job succeeded', { jobId: job.id, predictionId: prediction.id, owner: job.owner, outputs: outputs.length });
    await jobEnded(deps, outcome.job);
  }
  return outcome.applied;
}

/**
 * A job item holds at most 400 KB with its input (up to 256 KiB): an output over this size (a long text
 * from a language model) is stored in the bucket and the job keeps its key.
 */
export const MAX_INLINE_OUTPUT_BYTES = 64 * 1024;

async function resultOf(deps: Dependencies, job: Job, outputs: StoredOutput[], output: unknown): Promise<JobResult> {
  const json = JSON.stringify(output);
  if (Buffer.byteLength(json, 'utf8') <= MAX_INLINE_OUTPUT_BYTES) return { outputs, output };
  const outputKey = `results/${job.owner}/${job.id}/output.json`;
  await deps.objects.putText(outputKey, json);
  return { outputs, outputKey };
}

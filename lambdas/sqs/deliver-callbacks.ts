import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { attemptNumber } from '../core/callback-fairness';
import type { CallbackMessage } from '../core/ports';
import { OwnerRounds } from '../use-cases/callback-rounds';
import type { Callback } from '../use-cases/deliver-callback';
import type { Dependencies } from '../use-cases/dependencies';
import { processRecordsWithin } from './batch';

/**
 * Delivers client callbacks: POSTs `{"type":"job.ended","job":…}` to each job's `callbackUrl`. An endpoint
 * that is slow or dead must not delay other owners' callbacks, so a batch runs within a deadline, each owner's
 * callbacks go in at most its share of the concurrent batches, and an owner whose callbacks keep failing is
 * parked (core/callback-fairness, use-cases/callback-rounds.ts).
 */
export const deliverCallbacks =
  (deps: Dependencies) =>
  (event: SQSEvent): Promise<SQSBatchResponse> => {
    const loads = new Map(event.Records.map((record) => [record.messageId, load(deps, record)]));
    const loaded = Promise.all([...loads.values()].map((pending) => pending.catch(() => undefined)));
    return processRecordsWithin(event, deps.settings.callbacks.deadlineMs, (signal) => {
      const rounds = new OwnerRounds(deps, randomUUID(), loaded, signal);
      return async (record) => {
        try {
          const callback = await loads.get(record.messageId)!;
          return callback ? await rounds.outcome(callback) : true;
        } catch (error) {
          deps.log.error("could not handle a callback; it comes back after the queue's visibility timeout", {
            messageId: record.messageId,
            error,
          });
          return false;
        }
      };
    });
  };

/** The record's callback, or undefined when the record is dropped (it can never be delivered). */
async function load(deps: Dependencies, record: SQSRecord): Promise<Callback | undefined> {
  let message: CallbackMessage;
  try {
    message = JSON.parse(record.body) as CallbackMessage;
  } catch {
    deps.log.error('callback message is not JSON; dropped', { messageId: record.messageId });
    return undefined;
  }
  const job = typeof message.jobId === 'string' ? await deps.jobs.get(message.jobId) : undefined;
  if (!job?.callbackUrl) {
    deps.log.warn('callback for no job, or a job without callbackUrl; dropped', {
      messageId: record.messageId,
      jobId: message.jobId,
    });
    return undefined;
  }
  const attempt = attemptNumber(message.attempts, Number(record.attributes?.ApproximateReceiveCount ?? 1));
  return { record, job: { ...job, callbackUrl: job.callbackUrl }, attempt };
}

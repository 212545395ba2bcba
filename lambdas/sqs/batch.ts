/**
 * lambdas/sqs/: the SQS adapters — batch mechanics (Powertools) and each queue's record parsing and failure
 * handling, around the use cases. Imports core/, use-cases/ and Powertools batch.
 */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEADLINE_GRACE_MS } from '../core/limits';

/** A record handler that answered "not done" without throwing (it logged why, and may have set a retry delay). */
class RecordNotDone extends Error {}

/**
 * The batch mechanics, apart from the per-record logic: Powertools' BatchProcessor runs the records
 * concurrently and reports the ones that failed (`ReportBatchItemFailures`), so one bad record is retried alone.
 * `handle` answers whether its record is done with. A batch whose every record failed is reported as such, not
 * thrown: the records' own retry delays stand.
 */
export async function processRecords(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<boolean>,
): Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord) => {
    let done: boolean;
    try {
      done = await handle(record);
    } catch (error) {
      // Powertools reads `error.message`: a thrown non-Error would fail the whole batch instead of its record.
      throw error instanceof Error ? error : new Error(String(error));
    }
    if (!done) throw new RecordNotDone();
  };
  // One processor per batch: it keeps the batch's records and failures as state.
  const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
    throwOnFullBatchFailure: false,
  });
  // A copy: with no failure Powertools answers its one shared default object, which must stay empty.
  return { batchItemFailures: [...response.batchItemFailures] };
}

/**
 * `processRecords` for records that wait on other people's servers. At `deadlineMs` the signal that `start`
 * gets aborts what the records still have in flight, so each ends through its own failure path (logged,
 * retried with backoff); a record still running DEADLINE_GRACE_MS later is reported failed without waiting for
 * it (it comes back after the queue's visibility timeout). No record holds its batch, and so the event
 * source's slot, longer.
 */
export async function processRecordsWithin(
  event: SQSEvent,
  deadlineMs: number,
  start: (signal: AbortSignal) => (record: SQSRecord) => Promise<boolean>,
): Promise<SQSBatchResponse> {
  const deadline = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number) => new Promise<void>((resolve) => timers.push(setTimeout(resolve, ms)));
  void after(deadlineMs).then(() => deadline.abort(new Error(`the batch's deadline (${deadlineMs} ms) passed`)));
  const givenUp = after(deadlineMs + DEADLINE_GRACE_MS).then(() => false);
  try {
    const handle = start(deadline.signal);
    return await processRecords(event, (record) => Promise.race([handle(record), givenUp]));
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

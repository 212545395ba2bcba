import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Runs an SQS batch's records concurrently and reports the ones that failed (`ReportBatchItemFailures`), so
 * one bad record is retried alone instead of its whole batch.
 */
export async function processBatch(event: SQSEvent, process: (record: SQSRecord) => Promise<boolean>): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      if (!(await process(record))) failures.push({ itemIdentifier: record.messageId });
    }),
  );
  return { batchItemFailures: failures };
}

/** How long a record may still run after the deadline aborted it (its failure path: a log entry, a retry). */
export const DEADLINE_GRACE_MS = 2_000;

/**
 * `processBatch` for records that wait on other people's servers. At `deadlineMs` the signal that `start`
 * gets aborts what the records still have in flight, so each ends through its own failure path (logged,
 * retried with backoff); a record still running DEADLINE_GRACE_MS later is reported failed without waiting for
 * it (it comes back after the queue's visibility timeout). No record holds its batch, and so the event
 * source's slot, longer.
 */
export async function processBatchWithin(
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
    const process = start(deadline.signal);
    return await processBatch(event, (record) => Promise.race([process(record), givenUp]));
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

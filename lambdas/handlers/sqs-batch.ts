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

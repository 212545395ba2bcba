import type { SQSRecord } from 'aws-lambda';

/**
 * An SQS record as Lambda's event source mapping delivers it. Only the id, body, receipt handle and receive count
 * matter to the handlers; the rest is the envelope every record carries.
 */
export function sqsRecord(
  messageId: string,
  body: string,
  options: { receiveCount?: number; receiptHandle?: string } = {},
): SQSRecord {
  return {
    messageId,
    receiptHandle: options.receiptHandle ?? `receipt-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(options.receiveCount ?? 1) } as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import type { LocalStack } from '../../local/stack';

/** An SQS record of the prediction as it is now at the simulator, delivered as a webhook would queue it. */
export function predictionRecord(
  stack: LocalStack,
  predictionId: string,
  messageId: string,
  receivedAt = new Date(),
): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: JSON.stringify({
      source: 'webhook',
      receivedAt: receivedAt.toISOString(),
      body: JSON.stringify(stack.simulator!.predictions.get(predictionId)),
    }),
    attributes: { ApproximateReceiveCount: '1' } as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

/** The owner's quota counter item, read straight from the table (empty when it has none yet). */
export async function quotaItem(stack: LocalStack, owner: string): Promise<Record<string, any>> {
  const documents = DynamoDBDocumentClient.from(stack.emulators.clients.dynamo);
  return (
    (
      await documents.send(
        new GetCommand({ TableName: stack.emulators.resources.tableName, Key: { id: `quota#${owner}` } }),
      )
    ).Item ?? {}
  );
}

import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import type { LocalStack } from '../../local/stack';
import { sqsRecord } from './sqs-record';

/** An SQS record of the prediction as it is now at the simulator, delivered as a webhook would queue it. */
export function predictionRecord(
  stack: LocalStack,
  predictionId: string,
  messageId: string,
  receivedAt = new Date(),
): SQSRecord {
  const prediction = JSON.stringify(stack.simulator!.predictions.get(predictionId));
  return sqsRecord(
    messageId,
    JSON.stringify({ source: 'webhook', receivedAt: receivedAt.toISOString(), body: prediction }),
  );
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

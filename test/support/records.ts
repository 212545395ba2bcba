import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { newJobId } from '../../lambdas/core/ids';
import type { Job } from '../../lambdas/core/job';
import type { LocalStack } from '../../local/stack';
import { sqsRecord } from './sqs-record';

/**
 * A job as the table holds it, for tests that write one straight through the repository: `queued` for owner
 * `alice`, model `a/b`, created now, unless `fields` say otherwise.
 */
export function storedJob(fields: Partial<Job> = {}): Job {
  const now = new Date().toISOString();
  return {
    id: newJobId(),
    owner: 'alice',
    status: 'queued',
    rank: 0,
    model: 'a/b',
    input: {},
    webhookEvents: ['completed'],
    outputs: [],
    error: null,
    requestHash: 'h',
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

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

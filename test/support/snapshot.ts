import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../local/stack';

/**
 * Everything the stack has written, to compare before and after: every table item with all its values
 * (receipts and counters included), every queue's message counts (visible, in flight, delayed), and every
 * object in the bucket (key, size, ETag). A test that says "no write" compares two of these.
 */
export async function snapshotEverything(
  stack: LocalStack,
): Promise<{ items: string[]; queues: Record<string, string>; objects: string[] }> {
  const { dynamo, sqs, s3 } = stack.emulators.clients;
  const { tableName, bucketName, ...queues } = stack.emulators.resources;
  const items: string[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? [])
      items.push(JSON.stringify(Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))));
    start = page.LastEvaluatedKey;
  } while (start);
  const counts: Record<string, string> = {};
  for (const [name, url] of Object.entries(queues)) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    counts[name] =
      `${Attributes.ApproximateNumberOfMessages}/${Attributes.ApproximateNumberOfMessagesNotVisible}/${Attributes.ApproximateNumberOfMessagesDelayed}`;
  }
  const objects: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, ContinuationToken: token }));
    for (const object of page.Contents ?? []) objects.push(`${object.Key} ${object.Size} ${object.ETag}`);
    token = page.NextContinuationToken;
  } while (token);
  return { items: items.sort(), queues: counts, objects: objects.sort() };
}

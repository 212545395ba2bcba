import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';

export type UpdateInput = Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>;

/**
 * A conditional update of one item of the jobs table: its answer, or undefined when its condition refused it
 * (every other error is thrown). The adapters' idempotency and limits all rest on these refusals.
 */
export async function conditionalUpdate(
  documents: DynamoDBDocumentClient,
  tableName: string,
  input: UpdateInput,
): Promise<UpdateCommandOutput | undefined> {
  try {
    return await documents.send(new UpdateCommand({ TableName: tableName, ...input }));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE_SCHEMA, UPLOAD_PREFIX } from '../../contract/table';
import type { Upload, UploadRepository } from '../core/ports';
import { conditionalUpdate } from './conditional-update';

/** The record outlives its object by a day (the bucket's rule runs once a day); the table's TTL then removes it. */
const RECORD_GRACE_SECONDS = 86_400;
const TTL = JOBS_TABLE_SCHEMA.timeToLive;

/**
 * Uploads in the jobs table (`upload#<id>` items): who owns each, until when it may be used, and the set of jobs
 * that use it (`jobs`, a string set DynamoDB removes once empty).
 */
export class DynamoUploadRepository implements UploadRepository {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async create(upload: Upload): Promise<void> {
    const expiresAt = Math.ceil(Date.parse(upload.expiresAt) / 1000) + RECORD_GRACE_SECONDS;
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...upload, id: `${UPLOAD_PREFIX}${upload.id}`, usableUntil: upload.expiresAt, [TTL]: expiresAt },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async reference(owner: string, uploadIds: string[], jobId: string, now: Date): Promise<string[]> {
    const refused: string[] = [];
    await Promise.all(
      uploadIds.map(async (uploadId) => {
        const noted = await conditionalUpdate(this.documents, this.tableName, {
          Key: { id: `${UPLOAD_PREFIX}${uploadId}` },
          UpdateExpression: 'ADD jobs :job',
          ConditionExpression: 'attribute_exists(id) AND #owner = :owner AND usableUntil > :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':job': new Set([jobId]), ':owner': owner, ':now': now.toISOString() },
        });
        if (!noted) refused.push(uploadId);
      }),
    );
    return refused;
  }

  async forget(uploadIds: string[], jobId: string): Promise<void> {
    await Promise.all(
      uploadIds.map((uploadId) =>
        conditionalUpdate(this.documents, this.tableName, {
          Key: { id: `${UPLOAD_PREFIX}${uploadId}` },
          UpdateExpression: 'DELETE jobs :job',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':job': new Set([jobId]) },
        }),
      ),
    );
  }

  async release(uploadId: string, jobId: string): Promise<Upload | undefined> {
    const key = { id: `${UPLOAD_PREFIX}${uploadId}` };
    const after = await conditionalUpdate(this.documents, this.tableName, {
      Key: key,
      UpdateExpression: 'DELETE jobs :job',
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeValues: { ':job': new Set([jobId]) },
      ReturnValues: 'ALL_NEW',
    });
    if (!after?.Attributes || after.Attributes.jobs) return undefined;
    try {
      // Only while still unused: a job that took it up meanwhile keeps it.
      await this.documents.send(
        new DeleteCommand({ TableName: this.tableName, Key: key, ConditionExpression: 'attribute_not_exists(jobs)' }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
    const { usableUntil, jobs: _jobs, [TTL]: _ttl, ...upload } = after.Attributes;
    return { ...upload, id: uploadId, expiresAt: usableUntil } as Upload;
  }
}

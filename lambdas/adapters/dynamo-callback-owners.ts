import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE_SCHEMA } from '../../contract/table';
import { NO_CALLBACK_STATE, type OwnerCallbackState } from '../core/callback-fairness';
import type { CallbackOwners } from '../core/ports';

/** A day without deliveries and the owner's item goes (its failures with it): parking lasts 15 minutes at most. */
const KEEP_SECONDS = 24 * 3600;

/**
 * The callback sender's item per owner, in the jobs table under a key no job id can take (`callbacks#<owner>`),
 * read and written with the GetItem and UpdateItem the sender already has on the table:
 *   leases         batch id → lease end (ms): the batches delivering the owner's callbacks
 *   version        +1 on every change to `leases`; taking a lease is conditional on it, so two batches that
 *                  read the same free share cannot both take it
 *   failures       rounds failed in a row; lastFailureAt when the last one ended (ms)
 * Never an `owner` attribute: the item must stay out of the byOwner index that lists an owner's jobs.
 */
export class DynamoCallbackOwners implements CallbackOwners {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async read(owner: string): Promise<OwnerCallbackState> {
    const item = (
      await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { id: ownerKey(owner) }, ConsistentRead: true }),
      )
    ).Item;
    return {
      failures: Number(item?.failures ?? NO_CALLBACK_STATE.failures),
      lastFailureAt: Number(item?.lastFailureAt ?? NO_CALLBACK_STATE.lastFailureAt),
      leases: (item?.leases as Record<string, number> | undefined) ?? {},
      version: Number(item?.version ?? NO_CALLBACK_STATE.version),
    };
  }

  async lease(owner: string, read: OwnerCallbackState, leases: Record<string, number>, now: Date): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: ownerKey(owner) },
          UpdateExpression: 'SET leases = :leases, #expires = :expires ADD version :one',
          ConditionExpression: read.version === 0 ? 'attribute_not_exists(version)' : 'version = :seen',
          ExpressionAttributeNames: { '#expires': JOBS_TABLE_SCHEMA.timeToLive },
          ExpressionAttributeValues: {
            ':leases': leases,
            ':expires': expiresAt(now.getTime()),
            ':one': 1,
            ...(read.version === 0 ? {} : { ':seen': read.version }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async settle(owner: string, batchId: string, delivered: boolean, now: Date): Promise<void> {
    // The version moves too: a batch that read the lease before it was given back must read again.
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: ownerKey(owner) },
        UpdateExpression: delivered
          ? 'REMOVE leases.#batch SET failures = :zero, #expires = :expires ADD version :one'
          : 'REMOVE leases.#batch SET lastFailureAt = :now, #expires = :expires ADD failures :one, version :one',
        ExpressionAttributeNames: { '#batch': batchId, '#expires': JOBS_TABLE_SCHEMA.timeToLive },
        ExpressionAttributeValues: {
          ':one': 1,
          ':expires': expiresAt(now.getTime()),
          ...(delivered ? { ':zero': 0 } : { ':now': now.getTime() }),
        },
      }),
    );
  }
}

/** `callbacks#` keys can never be job ids (`job_…`), quota counters (`quota#`) or admission items (`admission#`). */
const ownerKey = (owner: string) => `callbacks#${owner}`;
const expiresAt = (nowMs: number) => Math.floor(nowMs / 1000) + KEEP_SECONDS;

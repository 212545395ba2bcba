import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { secondsUntilNextDay, type Limits, type QuotaDecision } from '../core/owner-limits';
import type { OwnerQuota } from '../core/ports';
import { JOBS_TABLE_SCHEMA } from './dynamo-job-repository';

/**
 * Owner counters, kept in the jobs table under keys no job id can take (`quota#…`):
 *   quota#<owner>               inFlight   +1 on acquire, −1 when a job ends
 *   quota#<owner>#<yyyy-mm-dd>  accepted   +1 on acquire (expires two days later)
 * Each change is one conditional ADD, so concurrent submits can never pass a limit together.
 *
 * A process that dies between taking a slot and giving it back leaks the slot. When an owner is at the limit,
 * the in-flight count is therefore checked against the truth (the owner's unfinished jobs on the sparse
 * active index) and repaired before the request is refused, but only once no slot has been taken for
 * REPAIR_GRACE_SECONDS: a submit that took a slot a moment ago may not have written its job yet, and
 * counting without it would let concurrent submits pass the limit. At the limit no slot is taken, so a
 * leak is repaired at most that long after it starts to matter.
 */
export const REPAIR_GRACE_SECONDS = 60;

export class DynamoOwnerQuota implements OwnerQuota {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly limitsOf: (owner: string) => Limits,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async acquire(owner: string, now: Date): Promise<QuotaDecision> {
    const limits = this.limitsOf(owner);
    if (!(await this.takeInFlight(owner, limits.maxInFlight, now)) && !(await this.repairThenTake(owner, limits.maxInFlight, now))) {
      return { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
    }
    if (!(await this.add(dailyKey(owner, now), 'accepted', 1, limits.maxPerDay, expiresAfterTwoDays(now)))) {
      await this.add(inFlightKey(owner), 'inFlight', -1);
      return { granted: false, limit: 'daily', retryAfterSeconds: secondsUntilNextDay(now) };
    }
    return { granted: true };
  }

  async release(owner: string, options: { refundDaily?: boolean; now?: Date } = {}): Promise<void> {
    await this.add(inFlightKey(owner), 'inFlight', -1, undefined, undefined, 0);
    if (options.refundDaily) await this.add(dailyKey(owner, options.now ?? new Date()), 'accepted', -1, undefined, undefined, 0);
  }

  private takeInFlight(owner: string, max: number, now: Date): Promise<boolean> {
    return this.add(inFlightKey(owner), 'inFlight', 1, max, undefined, undefined, now);
  }

  private async repairThenTake(owner: string, max: number, now: Date): Promise<boolean> {
    const actual = await this.countUnfinished(owner);
    if (actual >= max) return false;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: inFlightKey(owner) },
          UpdateExpression: 'SET inFlight = :actual',
          ConditionExpression: 'inFlight >= :max AND (attribute_not_exists(lastAcquiredAt) OR lastAcquiredAt < :graceStart)',
          ExpressionAttributeValues: {
            ':actual': actual,
            ':max': max,
            ':graceStart': new Date(now.getTime() - REPAIR_GRACE_SECONDS * 1000).toISOString(),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
    return this.takeInFlight(owner, max, now);
  }

  private async countUnfinished(owner: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: JOBS_TABLE_SCHEMA.active.indexName,
          KeyConditionExpression: 'activeShard = :active',
          FilterExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':active': 'active', ':owner': owner },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /**
   * ADD `delta` to a counter, conditionally: below `max` before adding, or (releases) above `min`, so a
   * counter never passes its limit nor goes negative. Answers whether the write happened.
   */
  private async add(
    id: string,
    attribute: string,
    delta: number,
    max?: number,
    expiresAt?: number,
    min?: number,
    acquiredAt?: Date,
  ): Promise<boolean> {
    const conditions: string[] = [];
    const values: Record<string, unknown> = { ':delta': delta };
    const sets: string[] = [];
    if (max !== undefined) {
      conditions.push(`(attribute_not_exists(#counter) OR #counter < :max)`);
      values[':max'] = max;
    }
    if (min !== undefined) {
      conditions.push(`#counter > :min`);
      values[':min'] = min;
    }
    if (expiresAt !== undefined) {
      values[':expiresAt'] = expiresAt;
      sets.push('expiresAt = :expiresAt');
    }
    if (acquiredAt !== undefined) {
      values[':acquiredAt'] = acquiredAt.toISOString();
      sets.push('lastAcquiredAt = :acquiredAt');
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: `ADD #counter :delta${sets.length ? ` SET ${sets.join(', ')}` : ''}`,
          ConditionExpression: conditions.length ? conditions.join(' AND ') : undefined,
          ExpressionAttributeNames: { '#counter': attribute },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** `quota#` keys can never be job ids (`job_…`), so counters and jobs share the table without meeting. */
const inFlightKey = (owner: string) => `quota#${owner}`;
const dailyKey = (owner: string, now: Date) => `quota#${owner}#${now.toISOString().slice(0, 10)}`;
const expiresAfterTwoDays = (now: Date) => Math.floor(now.getTime() / 1000) + 2 * 86400;

import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE_SCHEMA } from '../../contract/table';
import {
  type Limits,
  minuteOf,
  type QuotaDecision,
  secondsUntilNextDay,
  secondsUntilNextMinute,
} from '../core/owner-limits';
import type { OwnerQuota } from '../core/ports';

/**
 * One counter item per owner, in the jobs table under a key no job id can take (`quota#<owner>`):
 *   inFlight   +1 on acquire, −1 when a job ends
 *   day        the UTC day `accepted` counts
 *   accepted   jobs accepted that day
 *   refusalMinute, refusals   submissions Replicate refused in that UTC minute (a submit is refused while
 *              they reach the owner's limit, before Replicate is called again)
 * Acquiring is one conditional update (two on the first submit of a day, which also starts the day's count),
 * so concurrent submits can never pass a limit together, and each submit writes the item once.
 *
 * A process that dies between taking a slot and giving it back leaks the slot. When an owner is at the limit,
 * the in-flight count is therefore checked against the truth (the owner's jobs on the sparse
 * unfinished index) and repaired before the request is refused, but only once no slot has been taken for
 * REPAIR_GRACE_SECONDS: a submit that took a slot a moment ago may not have written its job yet, and
 * counting without it would let concurrent submits pass the limit. At the limit no slot is taken, so a
 * leak is repaired at most that long after it starts to matter.
 */
export const REPAIR_GRACE_SECONDS = 60;

/** What one conditional update found: granted, a limit reached, or the mode to try next. */
type Attempt = 'granted' | 'in_flight' | 'daily' | 'refusals' | 'new_day' | 'same_day';

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
    let mode: 'same_day' | 'new_day' = 'same_day';
    let repaired = false;
    // A few rounds at most: concurrent first submits of a day race to start its count, and the losers
    // continue in `same_day` mode; a leaked slot is repaired once.
    for (let round = 0; round < 4; round++) {
      const outcome = await this.take(owner, limits, now, mode);
      if (outcome === 'granted') return { granted: true };
      if (outcome === 'daily') return { granted: false, limit: 'daily', retryAfterSeconds: secondsUntilNextDay(now) };
      if (outcome === 'refusals')
        return { granted: false, limit: 'refusals', retryAfterSeconds: secondsUntilNextMinute(now) };
      if (outcome === 'in_flight') {
        if (repaired || !(await this.repair(owner, limits.maxInFlight, now))) break;
        repaired = true;
        mode = 'same_day';
      } else {
        mode = outcome;
      }
    }
    return { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
  }

  async release(owner: string, options: { refundDaily?: boolean; now?: Date } = {}): Promise<void> {
    // The day's count is refunded only on the day it was taken; past midnight the slot still comes back.
    if (options.refundDaily === true && (await this.decrement(owner, options.now ?? new Date(), true))) return;
    await this.decrement(owner, options.now ?? new Date(), false);
  }

  /** One conditional decrement, never below zero; false when its condition did not hold. */
  private async decrement(owner: string, now: Date, refund: boolean): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: quotaKey(owner) },
          UpdateExpression: refund ? 'ADD inFlight :minusOne, accepted :minusOne' : 'ADD inFlight :minusOne',
          ConditionExpression: `inFlight > :zero${refund ? ' AND #day = :today AND accepted > :zero' : ''}`,
          ExpressionAttributeNames: refund ? { '#day': 'day' } : undefined,
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0, ...(refund ? { ':today': dayOf(now) } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /**
   * Counts a submission Replicate refused (its input, its model): the slot is given back but the day's count
   * is not, and past `maxRefusalsPerMinute` the owner's submits are refused here, without calling Replicate.
   */
  async recordRefusal(owner: string, now: Date): Promise<void> {
    const minute = minuteOf(now);
    // Add to this minute's count; else start it; else another refusal started it meanwhile: add to it.
    for (const sameMinute of [true, false, true]) {
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id: quotaKey(owner) },
            UpdateExpression: sameMinute ? 'ADD refusals :one' : 'SET refusalMinute = :minute, refusals = :one',
            ConditionExpression: sameMinute
              ? 'refusalMinute = :minute'
              : 'attribute_not_exists(refusalMinute) OR refusalMinute <> :minute',
            ExpressionAttributeValues: { ':one': 1, ':minute': minute },
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  /**
   * One conditional update taking a slot and counting the job in today's total. `same_day` assumes the item
   * already counts today; `new_day` starts today's count at 1. A refusal is explained by reading the item.
   */
  private async take(owner: string, limits: Limits, now: Date, mode: 'same_day' | 'new_day'): Promise<Attempt> {
    const today = dayOf(now);
    const minute = minuteOf(now);
    const hasRoom =
      '(attribute_not_exists(inFlight) OR inFlight < :maxInFlight) AND (attribute_not_exists(refusalMinute) OR refusalMinute <> :minute OR refusals < :maxRefusals)';
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: quotaKey(owner) },
          UpdateExpression:
            mode === 'same_day'
              ? 'ADD inFlight :one, accepted :one SET lastAcquiredAt = :now'
              : 'ADD inFlight :one SET #day = :today, accepted = :one, lastAcquiredAt = :now',
          ConditionExpression:
            mode === 'same_day'
              ? `${hasRoom} AND #day = :today AND accepted < :maxPerDay`
              : `${hasRoom} AND (attribute_not_exists(#day) OR #day <> :today)`,
          ExpressionAttributeNames: { '#day': 'day' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':today': today,
            ':now': now.toISOString(),
            ':maxInFlight': limits.maxInFlight,
            ':minute': minute,
            ':maxRefusals': limits.maxRefusalsPerMinute,
            ...(mode === 'same_day' ? { ':maxPerDay': limits.maxPerDay } : {}),
          },
        }),
      );
      return 'granted';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const item = (
      await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { id: quotaKey(owner) }, ConsistentRead: true }),
      )
    ).Item;
    if (item && item.refusalMinute === minute && item.refusals >= limits.maxRefusalsPerMinute) return 'refusals';
    if (item && item.inFlight >= limits.maxInFlight) return 'in_flight';
    if (!item || item.day !== today) return 'new_day';
    return item.accepted >= limits.maxPerDay ? 'daily' : 'same_day';
  }

  /** Recounts the owner's unfinished jobs and lowers a leaked counter; true if there is room now. */
  private async repair(owner: string, max: number, now: Date): Promise<boolean> {
    const actual = await this.countUnfinished(owner);
    if (actual >= max) return false;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: quotaKey(owner) },
          UpdateExpression: 'SET inFlight = :actual',
          ConditionExpression:
            'inFlight >= :max AND (attribute_not_exists(lastAcquiredAt) OR lastAcquiredAt < :graceStart)',
          ExpressionAttributeValues: {
            ':actual': actual,
            ':max': max,
            ':graceStart': new Date(now.getTime() - REPAIR_GRACE_SECONDS * 1000).toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async countUnfinished(owner: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: JOBS_TABLE_SCHEMA.unfinished.indexName,
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
}

/** `quota#` keys can never be job ids (`job_…`), so counters and jobs share the table without meeting. */
const quotaKey = (owner: string) => `quota#${owner}`;
const dayOf = (now: Date) => now.toISOString().slice(0, 10);

import { randomInt } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_TABLE_SCHEMA, ownerShardKey } from '../../contract/table';
import {
  counterShardsOf,
  type Limits,
  minuteOf,
  type QuotaDecision,
  secondsUntilNextDay,
  secondsUntilNextMinute,
  shardLimits,
} from '../core/owner-limits';
import type { OwnerQuota } from '../core/ports';
import { conditionalUpdate, type UpdateInput } from './conditional-update';

/**
 * Counter items per owner, in the jobs table under keys no job id can take: `quota#<owner>` (shard 0, the one
 * counter owners had before sharding) and `quota#<owner>#<k>`. Each shard counts its share of the limits
 * (core/owner-limits.ts), so the shards together never pass the owner's:
 *   inFlight   +1 on acquire, −1 when a job ends (the job keeps its shard: `quotaShard`)
 *   day        the UTC day `accepted` counts
 *   accepted   jobs accepted that day
 *   refusalMinute, refusals   submissions Replicate refused in that UTC minute, counted in every shard (a
 *              submit is refused while they reach the owner's limit, before Replicate is called again)
 * Acquiring is one conditional update of a shard picked at random (two on its first submit of a day), so
 * concurrent submits can never pass a limit together. When that shard is full, one read of every shard finds
 * those with room, so an owner is refused only when all are full.
 *
 * A process that dies between taking a slot and giving it back leaks the slot. When a shard is at its limit,
 * its in-flight count is therefore checked against the truth (the owner's unfinished jobs of that shard, on
 * the sparse `unfinishedByOwner` index) and repaired before the request is refused, but only once no slot has
 * been taken from it for REPAIR_GRACE_SECONDS: a submit that took a slot a moment ago may not have written its
 * job yet, and counting without it would let concurrent submits pass the limit.
 */
export const REPAIR_GRACE_SECONDS = 60;

/** What one conditional update found: granted, a limit reached, or the mode to try next. */
type Attempt = 'granted' | 'in_flight' | 'daily' | 'refusals' | 'new_day' | 'same_day';
type Counter = Record<string, unknown> | undefined;

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
    const shards = counterShardsOf(limits);
    const first = randomInt(shards);
    const decision = await this.acquireIn(owner, first, shards, limits, now);
    if (decision.granted || decision.limit === 'refusals' || shards === 1) return decision;
    // That shard is full: one read of them all, then the others with room, in turn.
    const counters = await this.readShards(owner, shards);
    let inFlightFull = decision.limit === 'in_flight';
    for (let shard = 0; shard < shards; shard++) {
      if (shard === first || !hasRoom(counters[shard], shardLimits(limits, shards, shard), now)) continue;
      const next = await this.acquireIn(owner, shard, shards, limits, now);
      if (next.granted || next.limit === 'refusals') return next;
      inFlightFull ||= next.limit === 'in_flight';
    }
    // Every shard at its share of the day: the day is spent. Otherwise slots free up as jobs end.
    const daySpent = counters.every(
      (counter, shard) =>
        counter?.day === dayOf(now) && Number(counter.accepted) >= shardLimits(limits, shards, shard).maxPerDay,
    );
    return daySpent && !inFlightFull
      ? { granted: false, limit: 'daily', retryAfterSeconds: secondsUntilNextDay(now) }
      : { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
  }

  async release(owner: string, options: { shard?: number; refundDaily?: boolean; countedAt?: Date } = {}) {
    const key = counterKey(owner, options.shard ?? 0);
    // The day's count is refunded only on the day it was taken; past midnight the slot still comes back.
    const countedAt = options.countedAt ?? new Date();
    if (options.refundDaily === true && (await this.decrement(key, countedAt, true))) return;
    await this.decrement(key, countedAt, false);
  }

  /**
   * Counts a submission Replicate refused (its input, its model) in every shard: the slot is given back but the
   * day's count is not, and past `maxRefusalsPerMinute` the owner's submits are refused, without calling Replicate.
   */
  async recordRefusal(owner: string, now: Date): Promise<void> {
    const shards = counterShardsOf(this.limitsOf(owner));
    await Promise.all(Array.from({ length: shards }, (_, shard) => this.countRefusal(counterKey(owner, shard), now)));
  }

  /** The per-shard algorithm: a conditional take, a new day's count, one repair of a leaked slot. */
  private async acquireIn(
    owner: string,
    shard: number,
    shards: number,
    limits: Limits,
    now: Date,
  ): Promise<QuotaDecision> {
    const share = shardLimits(limits, shards, shard);
    const key = counterKey(owner, shard);
    let mode: 'same_day' | 'new_day' = 'same_day';
    let repaired = false;
    // A few rounds at most: concurrent first submits of a day race to start its count, and the losers
    // continue in `same_day` mode; a leaked slot is repaired once.
    for (let round = 0; round < 4; round++) {
      const outcome = await this.take(key, share, now, mode);
      if (outcome === 'granted') return { granted: true, shard };
      if (outcome === 'daily') return { granted: false, limit: 'daily', retryAfterSeconds: secondsUntilNextDay(now) };
      if (outcome === 'refusals')
        return { granted: false, limit: 'refusals', retryAfterSeconds: secondsUntilNextMinute(now) };
      if (outcome === 'in_flight') {
        if (repaired || !(await this.repair(owner, shard, share.maxInFlight, now))) break;
        repaired = true;
        mode = 'same_day';
      } else {
        mode = outcome;
      }
    }
    return { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
  }

  /** One conditional decrement, never below zero; false when its condition did not hold. */
  private async decrement(key: string, now: Date, refund: boolean): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { id: key },
      UpdateExpression: refund ? 'ADD inFlight :minusOne, accepted :minusOne' : 'ADD inFlight :minusOne',
      ConditionExpression: `inFlight > :zero${refund ? ' AND #day = :today AND accepted > :zero' : ''}`,
      ExpressionAttributeNames: refund ? { '#day': 'day' } : undefined,
      ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0, ...(refund ? { ':today': dayOf(now) } : {}) },
    });
  }

  private async countRefusal(key: string, now: Date): Promise<void> {
    const minute = minuteOf(now);
    // Add to this minute's count; else start it; else another refusal started it meanwhile: add to it.
    for (const sameMinute of [true, false, true]) {
      const counted = await this.conditionalUpdate({
        Key: { id: key },
        UpdateExpression: sameMinute ? 'ADD refusals :one' : 'SET refusalMinute = :minute, refusals = :one',
        ConditionExpression: sameMinute
          ? 'refusalMinute = :minute'
          : 'attribute_not_exists(refusalMinute) OR refusalMinute <> :minute',
        ExpressionAttributeValues: { ':one': 1, ':minute': minute },
      });
      if (counted) return;
    }
  }

  /**
   * One conditional update taking a slot and counting the job in today's total. `same_day` assumes the item
   * already counts today; `new_day` starts today's count at 1. A refusal is explained by reading the item.
   */
  private async take(key: string, limits: Limits, now: Date, mode: 'same_day' | 'new_day'): Promise<Attempt> {
    const today = dayOf(now);
    const minute = minuteOf(now);
    const hasRoomNow =
      '(attribute_not_exists(inFlight) OR inFlight < :maxInFlight) AND (attribute_not_exists(refusalMinute) OR refusalMinute <> :minute OR refusals < :maxRefusals)';
    const taken = await this.conditionalUpdate({
      Key: { id: key },
      UpdateExpression:
        mode === 'same_day'
          ? 'ADD inFlight :one, accepted :one SET lastAcquiredAt = :now'
          : 'ADD inFlight :one SET #day = :today, accepted = :one, lastAcquiredAt = :now',
      ConditionExpression:
        mode === 'same_day'
          ? `${hasRoomNow} AND #day = :today AND accepted < :maxPerDay`
          : `${hasRoomNow} AND (attribute_not_exists(#day) OR #day <> :today)`,
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
    });
    if (taken) return 'granted';
    const [item] = await this.read([key]);
    if (item && item.refusalMinute === minute && Number(item.refusals) >= limits.maxRefusalsPerMinute) {
      return 'refusals';
    }
    if (item && Number(item.inFlight) >= limits.maxInFlight) return 'in_flight';
    if (!item || item.day !== today) return 'new_day';
    return Number(item.accepted) >= limits.maxPerDay ? 'daily' : 'same_day';
  }

  /** Recounts the shard's unfinished jobs and lowers a leaked counter; true if there is room now. */
  private async repair(owner: string, shard: number, max: number, now: Date): Promise<boolean> {
    const actual = await this.countUnfinished(owner, shard);
    if (actual >= max) return false;
    return this.conditionalUpdate({
      Key: { id: counterKey(owner, shard) },
      UpdateExpression: 'SET inFlight = :actual',
      ConditionExpression:
        'inFlight >= :max AND (attribute_not_exists(lastAcquiredAt) OR lastAcquiredAt < :graceStart)',
      ExpressionAttributeValues: {
        ':actual': actual,
        ':max': max,
        ':graceStart': new Date(now.getTime() - REPAIR_GRACE_SECONDS * 1000).toISOString(),
      },
    });
  }

  /** The owner's unfinished jobs holding a slot of this shard: one key of the sparse index, counted. */
  private async countUnfinished(owner: string, shard: number): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: JOBS_TABLE_SCHEMA.unfinishedByOwner.indexName,
          KeyConditionExpression: 'activeOwner = :key',
          ExpressionAttributeValues: { ':key': ownerShardKey(owner, shard) },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  private async readShards(owner: string, shards: number): Promise<Counter[]> {
    return this.read(Array.from({ length: shards }, (_, shard) => counterKey(owner, shard)));
  }

  /** The counter items (consistent reads), in the order of `keys`; undefined where none exists yet. */
  private async read(keys: string[]): Promise<Counter[]> {
    const result = await this.documents.send(
      new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: keys.map((id) => ({ id })), ConsistentRead: true } },
      }),
    );
    const byKey = new Map((result.Responses?.[this.tableName] ?? []).map((item) => [item.id as string, item]));
    return keys.map((key) => byKey.get(key));
  }

  /** A conditional update: true if it was applied, false if its condition refused it. */
  private async conditionalUpdate(input: UpdateInput): Promise<boolean> {
    return (await conditionalUpdate(this.documents, this.tableName, input)) !== undefined;
  }
}

/** Whether a shard (as read) could take a slot now: in-flight room and, on its current day, daily room. */
function hasRoom(counter: Counter, limits: Limits, now: Date): boolean {
  if (Number(counter?.inFlight ?? 0) >= limits.maxInFlight) return false;
  return counter?.day !== dayOf(now) || Number(counter.accepted ?? 0) < limits.maxPerDay;
}

/**
 * `quota#` keys can never be job ids (`job_…`), so counters and jobs share the table without meeting. Shard 0
 * keeps the key of the single counter an owner had before sharding, so slots taken then are given back to it.
 */
const counterKey = (owner: string, shard: number) => (shard === 0 ? `quota#${owner}` : `quota#${owner}#${shard}`);
const dayOf = (now: Date) => now.toISOString().slice(0, 10);

import { randomInt } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ADMISSION_PREFIX } from '../../contract/table';
import { type AdmissionState, type Pace, slotStart, windowOf } from '../core/admission';
import { ADMISSION_STATE_CACHE_MS } from '../core/limits';
import type { Admission } from '../core/ports';
import { shareOf } from '../core/shards';
import { conditionalUpdate, type UpdateInput } from './conditional-update';

/**
 * Admission in the jobs table, under keys no job id can take:
 *   admission#state          backlogSince, pausedUntil: read by every submit (cached ADMISSION_STATE_CACHE_MS)
 *   admission#window#<n>     creates taken in window n (one conditional ADD each; expires after an hour); above
 *                            WINDOW_SHARD_CREATES_PER_SECOND a second, split into `#<shard>` keys with a share each
 *   admission#lease          the admitter that runs (holder, until)
 * A window is a new key every `windowSeconds`, so the counters never make one partition hot for long; while a
 * backlog exists only the admitter takes from them.
 */
export class DynamoAdmission implements Admission {
  private readonly documents: DynamoDBDocumentClient;
  private cached?: { state: AdmissionState; readAt: number };
  readonly spacingMs: number;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly pace: Pace,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
    this.spacingMs = (pace.windowSeconds * 1000) / pace.capacity;
  }

  async state(_now: Date): Promise<AdmissionState> {
    // Aged by the real clock, not by `now` (a slow caller's `now` would make a stale copy look fresh).
    if (this.cached && Date.now() - this.cached.readAt < ADMISSION_STATE_CACHE_MS) return this.cached.state;
    const item = (
      await this.documents.send(new GetCommand({ TableName: this.tableName, Key: STATE_KEY, ConsistentRead: true }))
    ).Item;
    const state: AdmissionState = {
      ...(typeof item?.backlogSince === 'string' ? { backlogSince: item.backlogSince } : {}),
      ...(typeof item?.pausedUntil === 'string' ? { pausedUntil: item.pausedUntil } : {}),
    };
    this.cached = { state, readAt: Date.now() };
    return state;
  }

  async tryTake(now: Date): Promise<{ granted: true; slotAt: number } | { granted: false; retryInMs: number }> {
    const { window, msUntilNext } = windowOf(this.pace, now);
    // A window's count is split like an owner's counters when the rate is high (a raised limit of 10 000 creates
    // a second would otherwise write one key 10 000 times a second): a few shards tried from a random one.
    const shards = windowShardsOf(this.pace);
    const first = randomInt(shards);
    for (let attempt = 0; attempt < Math.min(shards, WINDOW_SHARD_ATTEMPTS); attempt++) {
      const shard = (first + attempt) % shards;
      const capacity = shareOf(this.pace.capacity, shards, shard);
      const taken = await this.conditionalUpdate({
        Key: { id: `${ADMISSION_PREFIX}window#${window}${shards > 1 ? `#${shard}` : ''}` },
        UpdateExpression: 'ADD creates :one SET expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(creates) OR creates < :capacity',
        ExpressionAttributeValues: {
          ':one': 1,
          ':capacity': capacity,
          ':expiresAt': Math.floor(now.getTime() / 1000) + 3600,
        },
        ReturnValues: 'UPDATED_NEW',
      });
      if (taken) {
        const shardPace = { windowSeconds: this.pace.windowSeconds, capacity };
        return { granted: true, slotAt: slotStart(shardPace, window, Number(taken.Attributes?.creates ?? 1)) };
      }
    }
    return { granted: false, retryInMs: msUntilNext };
  }

  async startBacklog(now: Date): Promise<boolean> {
    const started = await this.applied({
      Key: STATE_KEY,
      UpdateExpression: 'SET backlogSince = :now',
      ConditionExpression: 'attribute_not_exists(backlogSince)',
      ExpressionAttributeValues: { ':now': now.toISOString() },
    });
    this.forget();
    return started;
  }

  async clearBacklog(): Promise<void> {
    await this.documents.send(
      new UpdateCommand({ TableName: this.tableName, Key: STATE_KEY, UpdateExpression: 'REMOVE backlogSince' }),
    );
    this.forget();
  }

  async pause(until: Date): Promise<void> {
    await this.conditionalUpdate({
      Key: STATE_KEY,
      UpdateExpression: 'SET pausedUntil = :until',
      ConditionExpression: 'attribute_not_exists(pausedUntil) OR pausedUntil < :until',
      ExpressionAttributeValues: { ':until': until.toISOString() },
    });
    this.forget();
  }

  async lease(holder: string, now: Date, until: Date): Promise<boolean> {
    return this.applied({
      Key: LEASE_KEY,
      UpdateExpression: 'SET holder = :holder, leaseUntil = :until',
      ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR holder = :holder',
      ExpressionAttributeValues: { ':holder': holder, ':until': until.toISOString(), ':now': now.toISOString() },
    });
  }

  async releaseLease(holder: string): Promise<void> {
    await this.conditionalUpdate({
      Key: LEASE_KEY,
      UpdateExpression: 'REMOVE holder, leaseUntil',
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': holder },
    });
  }

  /** This instance's own change: read the state afresh next time. */
  private forget() {
    this.cached = undefined;
  }

  private async applied(input: UpdateInput): Promise<boolean> {
    return (await this.conditionalUpdate(input)) !== undefined;
  }

  private conditionalUpdate(input: UpdateInput) {
    return conditionalUpdate(this.documents, this.tableName, input);
  }
}

/** One window key takes at most this many creates a second; a higher rate splits the window over more keys. */
export const WINDOW_SHARD_CREATES_PER_SECOND = 500;
/** Window shards tried before a create waits for the next window (the others are about as full). */
const WINDOW_SHARD_ATTEMPTS = 3;

export const windowShardsOf = (pace: Pace): number =>
  Math.max(1, Math.ceil(pace.capacity / pace.windowSeconds / WINDOW_SHARD_CREATES_PER_SECOND));
const STATE_KEY = { id: `${ADMISSION_PREFIX}state` };
const LEASE_KEY = { id: `${ADMISSION_PREFIX}lease` };

/**
 * lambdas/adapters/: one small adapter per AWS service or remote API, each implementing a port of core/ports.ts
 * (this one: the job table). Imports core/, contract/ and the AWS SDK; never a use case or a handler.
 */

import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS } from '../../contract/defaults';
import { JOBS_TABLE_SCHEMA, LEGACY_ACTIVE_SHARD, ownerShardKey, SHARD_PREFIXES } from '../../contract/table';
import type { WaitingJob } from '../core/admission';
import {
  type CallbackDelivery,
  isTerminal,
  type Job,
  type JobStatus,
  type StoredOutput,
  TERMINAL_RANK,
} from '../core/job';
import { MAX_CALLBACK_LOG } from '../core/limits';
import { MAX_COUNTER_SHARDS } from '../core/owner-limits';
import type { PartialOutput } from '../core/partial-output';
import type {
  CreateOutcome,
  JobEnding,
  JobPage,
  JobRepository,
  JobResult,
  QuietJob,
  TransferLease,
  WriteOutcome,
} from '../core/ports';
import { shardKey, shardKeys, shardOf } from '../core/shards';
import type { JobPatch } from '../core/state-machine';
import { conditionalUpdate, type UpdateInput } from './conditional-update';

/**
 * Free-form JSON (input, metadata, output, metrics) is stored as a JSON string, not a DynamoDB map: any JSON
 * a client or model sends then round-trips exactly (numbers beyond DynamoDB's range, empty keys, deep nesting).
 */
const JSON_FIELDS = ['input', 'metadata', 'output', 'metrics', 'partialOutput'] as const;

type Item = Record<string, unknown>;

/**
 * The transfer lease: its holder, its expiry, and the outputs copied under it so far (a map by output index, so
 * each copied file is one small write). Removed by the job's terminal write, where `outputs` takes over.
 */
const TRANSFER_ATTRIBUTES = ['transferLease', 'transferLeaseUntil', 'copiedOutputs'];
/**
 * What a terminal write removes: the job leaves the active index, the transfer is over, `output` replaces the partial
 * one (its size stays: that the model produced something decides the daily credit, core/daily-credits.ts).
 */
const REMOVE_WHEN_TERMINAL = `REMOVE activeShard, activeOwner, checkAt, waitShard, waitingSince, partialOutput, ${TRANSFER_ATTRIBUTES.join(', ')}`;
/** Index keys and bookkeeping that never leave the adapter. */
const INTERNAL_ATTRIBUTES = [
  'activeShard',
  'activeOwner',
  'ownerShard',
  'checkAt',
  'waitShard',
  ...TRANSFER_ATTRIBUTES,
  'submitRetryable',
];

function fromItem(item: Item): Job {
  const job = { ...item } as Record<string, unknown>;
  for (const field of JSON_FIELDS) if (typeof item[field] === 'string') job[field] = JSON.parse(item[field] as string);
  for (const internal of INTERNAL_ATTRIBUTES) delete job[internal];
  return job as unknown as Job;
}

// Named conditions: every idempotency guarantee comes from one of these (README, "How duplicates and races are
// handled"):
/** No job with this id yet. */
const jobIsNew = 'attribute_not_exists(id)';
/**
 * An Idempotency-Key retry of a request whose submission Replicate throttled or could not take: no
 * prediction exists for it, so a new attempt replaces the failed one.
 */
const failedSubmissionMayRetry = '(submitRetryable = :true AND requestHash = :requestHash)';
/** The write raises the rank; since terminal is the top rank this also means "not terminal". */
const isNewer = '#rank < :rank';
/** The event is for the job's prediction, or the job has none yet (a webhook that beat submit's write). */
const samePrediction = '(attribute_not_exists(predictionId) OR predictionId = :predictionId)';
/** The clock of the writer is not behind the last write: `updatedAt` never goes backwards. */
const notOlder = 'updatedAt <= :updatedAt';
/** No prediction was created for the job (its submission never got that far). */
const notSubmitted = 'attribute_not_exists(predictionId)';
/** Nobody holds the transfer lease, it expired (its holder crashed or timed out), or we hold it. */
const leaseFree = '(attribute_not_exists(transferLeaseUntil) OR transferLeaseUntil < :now OR transferLease = :holder)';
/** Not a deleted job's tombstone: nothing is written onto one. */
const notDeleted = 'attribute_not_exists(deletedAt)';
/** We still hold the transfer lease (nobody took it over after it expired). */
const leaseHeldBy = 'transferLease = :holder';

export class DynamoJobRepository implements JobRepository {
  private readonly documents: DynamoDBDocumentClient;

  /**
   * `shards`: how many keys each sparse index spreads its jobs over (contract/table.ts); it may change between
   * deployments (readers read every shard of the current count, and a job keeps the key it was written with).
   */
  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards: number = DEFAULTS.indexShards,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The item of a job: JSON fields as text, and an unfinished job's keys in the sparse indexes. */
  private toItem(job: Job): Item {
    const ownerShard = ownerShardKey(job.owner, job.quotaShard ?? 0);
    const item: Item = { ...job, ownerShard };
    for (const field of JSON_FIELDS) if (job[field] !== undefined) item[field] = JSON.stringify(job[field]);
    if (!isTerminal(job.status)) {
      Object.assign(item, {
        activeShard: this.shardOf(SHARD_PREFIXES.unfinished, job.id),
        activeOwner: ownerShard,
        checkAt: job.updatedAt,
      });
      if (job.waitingSince) item.waitShard = this.shardOf(SHARD_PREFIXES.waiting, job.id);
    }
    return item;
  }

  private shardOf(prefix: string, id: string): string {
    return shardKey(prefix, shardOf(id, this.shards));
  }

  async create(job: Job): Promise<CreateOutcome> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(job),
          ConditionExpression: `${jobIsNew} OR ${failedSubmissionMayRetry}`,
          ExpressionAttributeValues: { ':true': true, ':requestHash': job.requestHash },
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(job.id);
      if (!existing) throw new Error(`Job ${job.id} refused a conditional put but cannot be read`);
      return { created: false, existing };
    }
  }

  async get(id: string): Promise<Job | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async findByPredictionId(predictionId: string): Promise<Job | undefined> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: JOBS_TABLE_SCHEMA.byPrediction.indexName,
        KeyConditionExpression: 'predictionId = :predictionId',
        ExpressionAttributeValues: { ':predictionId': predictionId },
        Limit: 1,
      }),
    );
    const id = result.Items?.[0]?.id;
    return typeof id === 'string' ? this.get(id) : undefined;
  }

  async markSubmissionUnknown(id: string): Promise<void> {
    await this.update({
      Key: { id },
      UpdateExpression: 'SET submissionUnknown = :true',
      ConditionExpression: `attribute_exists(id) AND ${notDeleted} AND ${notSubmitted}`,
      ExpressionAttributeValues: { ':true': true },
    });
  }

  async recordPrediction(id: string, predictionId: string): Promise<Job | undefined> {
    return this.update(
      {
        Key: { id },
        UpdateExpression: 'SET predictionId = :predictionId',
        ConditionExpression: `attribute_exists(id) AND ${notDeleted} AND ${samePrediction}`,
        ExpressionAttributeValues: { ':predictionId': predictionId },
      },
      () => this.get(id),
    );
  }

  async finish(
    id: string,
    ending: JobEnding,
    options: { unsubmittedOnly?: boolean; retryableSubmission?: boolean } = {},
  ): Promise<WriteOutcome> {
    const job = await this.update({
      Key: { id },
      UpdateExpression: `SET #status = :status, #rank = :terminal, #error = :error, updatedAt = :updatedAt, completedAt = :updatedAt, submitRetryable = :retryable ${REMOVE_WHEN_TERMINAL}`,
      ConditionExpression: `attribute_exists(id) AND #rank < :terminal AND ${notOlder}${options.unsubmittedOnly ? ` AND ${notSubmitted}` : ''}`,
      ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank', '#error': 'error' },
      ExpressionAttributeValues: {
        ':status': ending.status,
        ':terminal': TERMINAL_RANK,
        ':error': ending.error,
        ':updatedAt': ending.updatedAt,
        ':retryable': options.retryableSubmission ?? false,
      },
    });
    return job ? { applied: true, job } : { applied: false };
  }

  async listByOwner(
    owner: string,
    query: { status?: JobStatus; limit: number; cursor?: Record<string, unknown> },
  ): Promise<JobPage> {
    // Every shard an owner's jobs can be in (whatever its limits are now), newest first, merged.
    const after = query.cursor as { id: string; createdAt: string } | undefined;
    const shards = await Promise.all(
      Array.from({ length: MAX_COUNTER_SHARDS }, (_, shard) =>
        this.newestOf(ownerShardKey(owner, shard), query.limit, after),
      ),
    );
    const merged = shards.flatMap((shard) => shard.keys).sort(newestFirst);
    const page = merged.slice(0, query.limit);
    const more = merged.length > page.length || shards.some((shard) => shard.more);
    const last = page.at(-1);
    const jobs = (await this.getMany(page.map((key) => key.id))).filter(
      (job) => !query.status || job.status === query.status,
    );
    return { jobs, cursor: more && last ? { id: last.id, owner, createdAt: last.createdAt } : undefined };
  }

  /**
   * The newest `limit` keys of one owner shard older than `after` (by createdAt, then id: jobs created in the
   * same millisecond are told apart by id), and whether the shard holds more.
   */
  private async newestOf(key: string, limit: number, after?: { id: string; createdAt: string }) {
    const keys: OwnerKey[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: JOBS_TABLE_SCHEMA.byOwner.indexName,
          KeyConditionExpression: `ownerShard = :key${after ? ' AND createdAt <= :createdAt' : ''}`,
          ExpressionAttributeValues: { ':key': key, ...(after ? { ':createdAt': after.createdAt } : {}) },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const found = { id: item.id as string, createdAt: item.createdAt as string };
        if (!after || newestFirst(after, found) < 0) keys.push(found);
      }
      start = page.LastEvaluatedKey;
    } while (start && keys.length < limit);
    return { keys, more: start !== undefined };
  }

  /** The jobs of these ids, in this order (one BatchGetItem, its unprocessed keys asked again). */
  private async getMany(ids: string[]): Promise<Job[]> {
    const found = new Map<string, Job>();
    let keys: Array<Record<string, unknown>> = ids.map((id) => ({ id }));
    while (keys.length > 0) {
      const result = await this.documents.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[this.tableName] ?? []) found.set(item.id as string, fromItem(item));
      keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  async listQuiet(before: string, limit: number): Promise<QuietJob[]> {
    // Every shard (and the key of jobs written before sharding), at most `limit` from each: the `limit`
    // longest-quiet of all of them are among these.
    const keys = [...shardKeys(SHARD_PREFIXES.unfinished, this.shards), LEGACY_ACTIVE_SHARD];
    const shards = await Promise.all(
      keys.map((key) =>
        this.queryAll(
          {
            IndexName: JOBS_TABLE_SCHEMA.unfinished.indexName,
            KeyConditionExpression: 'activeShard = :shard AND checkAt < :before',
            ProjectionExpression: 'id, #owner, checkAt',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':shard': key, ':before': before },
          },
          limit,
        ),
      ),
    );
    return shards
      .flat()
      .sort((a, b) => compareText(a.checkAt as string, b.checkAt as string))
      .slice(0, limit)
      .map((item) => ({ id: item.id as string, owner: item.owner as string }));
  }

  async markWaiting(id: string, waitingSince: string): Promise<boolean> {
    const job = await this.update({
      Key: { id },
      UpdateExpression: 'SET waitingSince = :since, waitShard = :shard',
      ConditionExpression: `attribute_exists(id) AND #rank < :terminal AND ${notSubmitted}`,
      ExpressionAttributeNames: { '#rank': 'rank' },
      ExpressionAttributeValues: {
        ':since': waitingSince,
        ':shard': this.shardOf(SHARD_PREFIXES.waiting, id),
        ':terminal': TERMINAL_RANK,
      },
    });
    return job !== undefined;
  }

  async claimWaiting(id: string, at: string): Promise<Job | undefined> {
    return this.update({
      Key: { id },
      UpdateExpression: 'SET admittedAt = :at REMOVE waitShard, waitingSince',
      // Still waiting: not canceled or timed out meanwhile, and not claimed by another admitter.
      ConditionExpression: `attribute_exists(waitShard) AND #rank < :terminal AND ${notSubmitted}`,
      ExpressionAttributeNames: { '#rank': 'rank' },
      ExpressionAttributeValues: { ':at': at, ':terminal': TERMINAL_RANK },
    });
  }

  async listWaiting(after?: string): Promise<WaitingJob[]> {
    const shards = await Promise.all(
      shardKeys(SHARD_PREFIXES.waiting, this.shards).map((key) =>
        this.queryAll({
          IndexName: JOBS_TABLE_SCHEMA.waiting.indexName,
          KeyConditionExpression: `waitShard = :shard${after ? ' AND waitingSince > :after' : ''}`,
          ProjectionExpression: 'id, #owner, waitingSince',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':shard': key, ...(after ? { ':after': after } : {}) },
        }),
      ),
    );
    return shards
      .flat()
      .map((item) => ({
        id: item.id as string,
        owner: item.owner as string,
        waitingSince: item.waitingSince as string,
      }))
      .sort((a, b) => compareText(a.waitingSince, b.waitingSince));
  }

  /** Every item a query matches (page after page), or the first `limit`. */
  private async queryAll(input: Omit<QueryInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>, limit = Infinity) {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          ...input,
          ...(Number.isFinite(limit) ? { Limit: limit - items.length } : {}),
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }

  async markExamined(id: string, at: string): Promise<void> {
    await this.update({
      Key: { id },
      UpdateExpression: 'SET checkAt = :at',
      // Only while unfinished (a finished job left the index and must not re-enter it), and only forwards.
      ConditionExpression: 'attribute_exists(activeShard) AND checkAt < :at',
      ExpressionAttributeValues: { ':at': at },
    });
  }

  async advance(id: string, patch: JobPatch, result?: JobResult): Promise<WriteOutcome> {
    const names: Record<string, string> = { '#status': 'status', '#rank': 'rank' };
    const values: Record<string, unknown> = {
      ':status': patch.status,
      ':rank': patch.rank,
      ':updatedAt': patch.updatedAt,
      ':predictionId': patch.predictionId,
    };
    const sets = ['#status = :status', '#rank = :rank', 'updatedAt = :updatedAt', 'predictionId = :predictionId'];
    const add = (attribute: string, value: unknown) => {
      if (value === undefined) return;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    };
    if (patch.startedAt) {
      values[':startedAt'] = patch.startedAt;
      sets.push('startedAt = if_not_exists(startedAt, :startedAt)');
    }
    add('completedAt', patch.completedAt);
    add('error', patch.error);
    add('metrics', patch.metrics === undefined ? undefined : JSON.stringify(patch.metrics));
    add('outputs', result?.outputs);
    add('output', result === undefined || result.outputKey ? undefined : JSON.stringify(result.output ?? null));
    add('outputKey', result?.outputKey);
    const terminal = isTerminal(patch.status);
    const job = await this.update({
      Key: { id },
      // A non-terminal step leaves `checkAt` alone: moving an index's sort key costs that index two writes. Any
      // step means a prediction exists: a job that waited for capacity (its earlier create's answer lost) leaves the
      // waiting line, so the admitter creates no second prediction and the reconciler polls this one.
      UpdateExpression: terminal
        ? `SET ${sets.join(', ')} ${REMOVE_WHEN_TERMINAL}`
        : `SET ${sets.join(', ')} REMOVE waitShard, waitingSince`,
      ConditionExpression: `attribute_exists(id) AND ${isNewer} AND ${samePrediction} AND ${notOlder}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return job ? { applied: true, job } : { applied: false };
  }

  async recordPartialOutput(
    id: string,
    predictionId: string,
    partial: PartialOutput,
    updatedAt: string,
  ): Promise<boolean> {
    const job = await this.update({
      Key: { id },
      UpdateExpression: 'SET partialOutput = :json, partialOutputSize = :size, updatedAt = :updatedAt',
      // Only while it runs, for its own prediction, and only a larger output than the one kept (events reorder).
      ConditionExpression: `attribute_exists(id) AND #rank < :terminal AND predictionId = :predictionId AND ${notOlder} AND (attribute_not_exists(partialOutputSize) OR partialOutputSize < :size)`,
      ExpressionAttributeNames: { '#rank': 'rank' },
      ExpressionAttributeValues: {
        ':json': partial.json,
        ':size': partial.size,
        ':updatedAt': updatedAt,
        ':terminal': TERMINAL_RANK,
        ':predictionId': predictionId,
      },
    });
    return job !== undefined;
  }

  async recordCallbackDelivery(id: string, delivery: CallbackDelivery): Promise<void> {
    const job = await this.update({
      Key: { id },
      UpdateExpression: 'SET callbackDeliveries = list_append(if_not_exists(callbackDeliveries, :none), :delivery)',
      ConditionExpression: `attribute_exists(id) AND ${notDeleted}`,
      ExpressionAttributeValues: { ':none': [], ':delivery': [delivery] },
    });
    // Keep the log bounded: past the limit, drop the oldest entries (a rare second write).
    const log = job?.callbackDeliveries ?? [];
    if (log.length > MAX_CALLBACK_LOG) {
      await this.update({
        Key: { id },
        UpdateExpression: `REMOVE ${Array.from({ length: log.length - MAX_CALLBACK_LOG }, (_, i) => `callbackDeliveries[${i}]`).join(', ')}`,
        ConditionExpression: 'size(callbackDeliveries) = :seen',
        ExpressionAttributeValues: { ':seen': log.length },
      });
    }
  }

  async acquireTransferLease(
    id: string,
    predictionId: string,
    holder: string,
    now: string,
    until: string,
  ): Promise<{ job: Job; lease: TransferLease } | undefined> {
    const result = await this.tryUpdate({
      Key: { id },
      // Bound to the prediction whose files it copies: copies are recorded by index, so a job must never take
      // another prediction's copies (or let the admitter create a second prediction while it copies).
      UpdateExpression:
        'SET transferLease = :holder, transferLeaseUntil = :until, copiedOutputs = if_not_exists(copiedOutputs, :none), ' +
        'predictionId = if_not_exists(predictionId, :predictionId) REMOVE waitShard, waitingSince',
      ConditionExpression: `attribute_exists(id) AND #rank < :terminal AND ${samePrediction} AND ${leaseFree}`,
      ExpressionAttributeNames: { '#rank': 'rank' },
      ExpressionAttributeValues: {
        ':holder': holder,
        ':until': until,
        ':now': now,
        ':terminal': TERMINAL_RANK,
        ':predictionId': predictionId,
        ':none': {},
      },
      ReturnValues: 'ALL_NEW',
    });
    if (!result?.Attributes) return undefined;
    const copied = Object.values((result.Attributes.copiedOutputs ?? {}) as Record<string, StoredOutput>);
    return { job: fromItem(result.Attributes), lease: { copied } };
  }

  async recordCopiedOutput(id: string, holder: string, output: StoredOutput): Promise<boolean> {
    const result = await this.tryUpdate({
      Key: { id },
      UpdateExpression: 'SET copiedOutputs.#index = :output',
      ConditionExpression: `attribute_exists(id) AND #rank < :terminal AND ${leaseHeldBy}`,
      ExpressionAttributeNames: { '#rank': 'rank', '#index': String(output.index) },
      ExpressionAttributeValues: { ':output': output, ':holder': holder, ':terminal': TERMINAL_RANK },
    });
    return result !== undefined;
  }

  async replaceByTombstone(id: string, deletedAt: string, expiresAtEpochSeconds: number): Promise<boolean> {
    const job = await this.get(id);
    if (!job || !isTerminal(job.status)) return false;
    // Only what tells the tombstone's owner and why every write is refused; no index key, so it leaves every index.
    const tombstone = {
      id,
      owner: job.owner,
      status: job.status,
      rank: TERMINAL_RANK,
      model: job.model,
      outputs: [],
      error: null,
      createdAt: job.createdAt,
      updatedAt: deletedAt,
      deletedAt,
      [JOBS_TABLE_SCHEMA.timeToLive]: expiresAtEpochSeconds,
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: tombstone,
          ConditionExpression: 'attribute_exists(id) AND #rank = :terminal',
          ExpressionAttributeNames: { '#rank': 'rank' },
          ExpressionAttributeValues: { ':terminal': TERMINAL_RANK },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** A conditional update answering with the new job, or with `onConditionFailed`'s answer when refused. */
  private async update(
    input: UpdateInput,
    onConditionFailed: () => Promise<Job | undefined> = async () => undefined,
  ): Promise<Job | undefined> {
    const result = await this.tryUpdate({ ReturnValues: 'ALL_NEW', ...input });
    if (!result) return onConditionFailed();
    return result.Attributes ? fromItem(result.Attributes) : undefined;
  }

  /** A conditional update: its answer, or undefined when its condition refused it. */
  private tryUpdate(input: UpdateInput) {
    return conditionalUpdate(this.documents, this.tableName, input);
  }
}

type QueryInput = ConstructorParameters<typeof QueryCommand>[0];

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface OwnerKey {
  id: string;
  createdAt: string;
}
/** Newest first: by creation time, then by id (a total order, so a cursor names one place in it). */
const newestFirst = (a: OwnerKey, b: OwnerKey) => compareText(b.createdAt, a.createdAt) || compareText(b.id, a.id);

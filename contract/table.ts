/**
 * The jobs table as both sides see it: the construct creates the table and its indexes from these names, the
 * adapters query them, and the grants name them; one list, so the three cannot disagree.
 */
export const JOBS_TABLE_SCHEMA = {
  partitionKey: 'id',
  byPrediction: { indexName: 'byPrediction', partitionKey: 'predictionId' },
  /**
   * An owner's jobs, newest first. Keyed by `ownerShard` (`<owner>#<k>`, k the job's counter shard): one owner
   * at 2 000 jobs a second would otherwise write one key 2 000 times a second. Keys only: every job write
   * would otherwise write the index too; a page reads its jobs from the table.
   */
  byOwner: { indexName: 'byOwnerShard', partitionKey: 'ownerShard', sortKey: 'createdAt' },
  /**
   * Sparse: only unfinished jobs carry `activeOwner` (`<owner>#<k>`, as `ownerShard`), keys only: what an
   * owner's counter shard k repairs a leaked slot from, one key counted (not every unfinished job filtered).
   */
  unfinishedByOwner: { indexName: 'unfinishedByOwner', partitionKey: 'activeOwner' },
  /**
   * Sparse: only jobs that are not terminal carry `activeShard`, so the reconciler never scans finished jobs.
   * Sorted by `checkAt`, when the job was created or the reconciler last looked at it: a job it examined
   * goes to the back, so the same quiet jobs can never stay in front of all others. Projects `owner`, for
   * a fair share per owner.
   */
  unfinished: { indexName: 'unfinished', partitionKey: 'activeShard', sortKey: 'checkAt', projected: ['owner'] },
  /**
   * Sparse: only jobs waiting for capacity at Replicate carry `waitShard`, sorted by `waitingSince`; the
   * admitter reads it (and the reconciler counts it). Projects `owner`, for owners' turns.
   */
  waiting: { indexName: 'waiting', partitionKey: 'waitShard', sortKey: 'waitingSince', projected: ['owner'] },
  /** Expiry (epoch seconds) of short-lived items: callback owners' items and daily quota counters. */
  timeToLive: 'expiresAt',
} as const;

/** The table's index names, for grants that name one index. */
export type JobsTableIndex = 'byPrediction' | 'byOwner' | 'unfinished' | 'unfinishedByOwner' | 'waiting';

/**
 * The key of an owner's share of an index (`byOwner`, `unfinishedByOwner`): shard k of the owner's counters
 * (lambdas/core/owner-limits.ts). Unambiguous: exactly one `#<k>` is ever appended to an owner.
 */
export const ownerShardKey = (owner: string, shard: number): string => `${owner}#${shard}`;

/**
 * Both sparse indexes' keys are sharded (`active#00` … , `wait#00` …) by a hash of the job id, so no partition
 * takes every job's writes; `DEFAULTS.indexShards` of them unless the construct says otherwise. Jobs written
 * before sharding carry `active`, which the reconciler still reads.
 */
export const SHARD_PREFIXES = { unfinished: 'active', waiting: 'wait' } as const;
export const LEGACY_ACTIVE_SHARD = 'active';

/** Key prefix of the admission items (state, windows, the admitter's lease): lambdas/adapters/dynamo-admission.ts. */
export const ADMISSION_PREFIX = 'admission#';

/**
 * Key prefix of the usage ledger's day items, `usage#<owner>#<YYYY-MM-DD>` (lambdas/adapters/dynamo-usage-ledger.ts):
 * a range of days is one BatchGetItem of known keys. The day is the key's fixed-length end, so any owner name parses.
 */
export const USAGE_PREFIX = 'usage#';

/** Key prefix of upload records (who owns an upload, until when, which jobs use it): dynamo-upload-repository.ts. */
export const UPLOAD_PREFIX = 'upload#';

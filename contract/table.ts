/**
 * The jobs table as both sides see it: the construct creates the table and its indexes from these names, the
 * adapters query them, and the grants name them; one list, so the three cannot disagree.
 */
export const JOBS_TABLE_SCHEMA = {
  partitionKey: 'id',
  byPrediction: { indexName: 'byPrediction', partitionKey: 'predictionId' },
  byOwner: { indexName: 'byOwner', partitionKey: 'owner', sortKey: 'createdAt' },
  /**
   * Sparse: only jobs that are not terminal carry `activeShard`, so the reconciler never scans finished jobs.
   * Sorted by `checkAt`, the last time the job changed or the reconciler looked at it: a job it examined
   * goes to the back, so the same quiet jobs can never stay in front of all others. Projects `owner`, for
   * a fair share per owner and for counting an owner's unfinished jobs (quota repair).
   */
  unfinished: { indexName: 'unfinished', partitionKey: 'activeShard', sortKey: 'checkAt', projected: ['owner'] },
  /** Expiry (epoch seconds) of short-lived items: webhook receipts and daily quota counters. */
  timeToLive: 'expiresAt',
} as const;

/** The table's index names, for grants that name one index. */
export type JobsTableIndex = 'byPrediction' | 'byOwner' | 'unfinished';

/**
 * Key prefix of the webhook receivers' receipts (`webhook#<id>`): the webhook function's grant is limited to
 * items whose key starts with it (`dynamodb:LeadingKeys`), so it can never write a job.
 */
export const WEBHOOK_RECEIPT_PREFIX = 'webhook#';

/**
 * The output bucket's layout. The key builders are what the functions write; the prefixes are what the
 * construct grants, expires and acknowledges to cdk-nag. Both come from here, so a key a function writes is
 * always one its role may write.
 */
export const BUCKET_PREFIXES = {
  /** Copies of a job's output files: `outputs/{owner}/{jobId}/{index}.{ext}`. */
  outputs: 'outputs',
  /** A job's output too large for its item (long language-model text): `results/{owner}/{jobId}/output.json`. */
  results: 'results',
  /** Webhook bodies too large for a queue message, until the consumer has read them: expired after 7 days. */
  webhookBodies: 'webhook-bodies',
  /** Files clients upload for model inputs (`POST /uploads`): `uploads/{owner}/{uploadId}`, expired by a rule. */
  uploads: 'uploads',
} as const;

export type BucketPrefix = (typeof BUCKET_PREFIXES)[keyof typeof BUCKET_PREFIXES];

/** The prefix of the output bucket's server access logs, in the access-log bucket. */
export const ACCESS_LOG_PREFIX = `${BUCKET_PREFIXES.outputs}/`;

/** Days a large webhook body is kept: long enough for every retry of the consumer and a redrive of its DLQ. */
export const WEBHOOK_BODY_RETENTION_DAYS = 7;

/** Deterministic, so a retried copy overwrites the same object instead of adding a second one. */
export const outputKey = (owner: string, jobId: string, index: number, extension: string): string =>
  `${BUCKET_PREFIXES.outputs}/${owner}/${jobId}/${index}.${extension}`;

/** A derivative (core/derivatives.ts) of output `index`: the `k`-th the job asked for, beside its original. */
export const variantKey = (owner: string, jobId: string, index: number, k: number, extension: string): string =>
  `${BUCKET_PREFIXES.outputs}/${owner}/${jobId}/${index}.${k}.${extension}`;

/** An uploaded input file: under its owner, so a grant or a person can tell whose it is from the key alone. */
export const uploadKey = (owner: string, uploadId: string): string => `${BUCKET_PREFIXES.uploads}/${owner}/${uploadId}`;

/**
 * The object tag a job's stored objects carry when the job asked for its own `retentionDays`: one lifecycle rule
 * per allowed value (RETENTION_DAYS_CHOICES) expires the objects tagged with it. No scan ever deletes outputs.
 */
export const RETENTION_TAG = 'retention-days';
/** The values `retentionDays` may take: each is one lifecycle rule of the bucket (S3 allows 1 000). */
export const RETENTION_DAYS_CHOICES = [1, 3, 7, 14, 30, 60, 90, 180, 365] as const;

/** The tags a job's objects are written with: its retention's, when it chose one. */
export const retentionTagsOf = (retentionDays: number | undefined): Record<string, string> | undefined =>
  retentionDays === undefined ? undefined : { [RETENTION_TAG]: String(retentionDays) };

/** Where a job's output goes when it is too large to keep in the job's item. */
export const resultKey = (owner: string, jobId: string): string =>
  `${BUCKET_PREFIXES.results}/${owner}/${jobId}/output.json`;

/**
 * A large webhook body, by the day it was received (so a lifecycle rule or a person can find a day's) and its
 * id, encoded so any id is one safe key segment.
 */
export const webhookBodyKey = (receivedAt: string, bodyId: string): string =>
  `${BUCKET_PREFIXES.webhookBodies}/${receivedAt.slice(0, 10)}/${encodeURIComponent(bodyId)}.json`;

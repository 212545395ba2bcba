/** What a job is, as the core sees it: statuses and their order, the record, the timing rules. */
import type { DerivativeErrorCode, DerivativeFormat, DerivativeSpec } from './derivatives';
import type { JobErrorCode } from './errors';

export const JOB_STATUSES = ['queued', 'starting', 'processing', 'succeeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type TerminalStatus = 'succeeded' | 'failed' | 'canceled';

/**
 * A monotonic rank per status: a write may only raise it. All terminal statuses share the top rank,
 * so once one is written no other status (terminal or not) can replace it.
 */
export const STATUS_RANK: Record<JobStatus, number> = {
  queued: 0,
  starting: 1,
  processing: 2,
  succeeded: 3,
  failed: 3,
  canceled: 3,
};
export const TERMINAL_RANK = 3;

export const isTerminal = (status: JobStatus): status is TerminalStatus => STATUS_RANK[status] === TERMINAL_RANK;

/** When the job's prediction was (last) asked for: when the admitter took it, else when it was submitted (ms). */
export const createAttemptedAt = (job: { createdAt: string; admittedAt?: string }): number =>
  Date.parse(job.admittedAt ?? job.createdAt);

export const WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface JobError {
  code: JobErrorCode;
  message: string;
}

/** One attempt to deliver a job's callback: when, which attempt, and what the endpoint answered. */
export interface CallbackDelivery {
  at: string;
  attempt: number;
  /** The HTTP status, or 0 when no answer came (refused, timed out, blocked). */
  status: number;
  error?: string;
}

/** A file output copied into our bucket. `index` is its place in the output's depth-first order. */
export interface StoredOutput {
  index: number;
  key: string;
  contentType: string;
  size: number;
  /** The job's derivatives of this output, in the order asked for, when it is an image and some were asked for. */
  variants?: StoredVariant[];
}

/** The keys of stored outputs and of their stored derivatives. */
export const storedKeysOf = (outputs: StoredOutput[]): string[] =>
  outputs.flatMap((output) => [
    output.key,
    ...(output.variants ?? []).flatMap((variant) => ('key' in variant ? [variant.key] : [])),
  ]);

/** One derivative of an image output: stored beside it, or why it could not be made (the job succeeds anyway). */
export type StoredVariant =
  | { format: DerivativeFormat; key: string; contentType: string; size: number; width: number; height: number }
  | { format: DerivativeFormat; error: { code: DerivativeErrorCode; message: string } };

/** What a client asks for: a validated submission, resolved to what Replicate is asked for. */
export interface JobSpec {
  /** `owner/name` of the model; empty for a job on a deployment. */
  model: string;
  version?: string;
  /** `owner/name` of the Replicate deployment the job runs on, instead of a model. */
  deployment?: string;
  input: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  webhookEvents: WebhookEvent[];
  /** Per-job limit on how long it may stay unfinished; the service default applies when absent. */
  timeoutSeconds?: number;
  callbackUrl?: string;
  /**
   * What the callback carries: `job` (our `{"type":"job.ended","job":…}`, the default) or `prediction` (Replicate's
   * prediction object, for a `/v1` create's `webhook`, so Replicate's clients read and verify it unchanged).
   */
  callbackShape?: 'job' | 'prediction';
  /** Image derivatives made of every image output (core/derivatives.ts). */
  derivatives?: DerivativeSpec[];
  /** Days the job's stored objects are kept (one of RETENTION_DAYS_CHOICES), by a lifecycle rule on their tag. */
  retentionDays?: number;
  /** The failed or canceled job this one retries (`POST /jobs/{id}/retry`). */
  retryOf?: string;
}

/**
 * The job record as stored: its spec plus what the service keeps about it. Timestamps are ISO-8601 strings
 * (they sort as text).
 */
export interface Job extends JobSpec {
  id: string;
  owner: string;
  status: JobStatus;
  rank: number;
  predictionId?: string;
  outputs: StoredOutput[];
  output?: unknown;
  /**
   * While it runs: the prediction's output so far, from its `output` events (core/partial-output.ts), and that
   * output's size in bytes, which orders them. The terminal write removes the output (`output` takes over) and keeps
   * its size: the model produced something (core/daily-credits.ts).
   */
  partialOutput?: unknown;
  partialOutputSize?: number;
  /** Where the output JSON is stored when it is too large to keep in the job item (long text outputs). */
  outputKey?: string;
  /** The client callback's delivery log, newest last (at most the last MAX_CALLBACK_LOG attempts). */
  callbackDeliveries?: CallbackDelivery[];
  error: JobError | null;
  metrics?: Record<string, unknown>;
  /** Hash of the validated request: tells a retried Idempotency-Key request from a conflicting one. */
  requestHash: string;
  idempotencyKey?: string;
  /**
   * Replicate's answer to creating the prediction was lost (a 5xx, a timeout): a prediction may exist. Until
   * its webhook names the job (or the reconciler gives up on it) the job cannot be canceled.
   */
  submissionUnknown?: boolean;
  /** The owner's counter shard that holds the job's slot (core/owner-limits.ts); its owner-index shard too. */
  quotaShard?: number;
  /** Where Replicate sends the prediction's webhooks: fixed at submit, so a job created later uses the same. */
  webhookUrl?: string;
  /** Set while the job waits for capacity at Replicate (core/admission.ts): since when. */
  waitingSince?: string;
  /** When the admitter took the job out of the waiting line to create its prediction. */
  admittedAt?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  /**
   * Set on the tombstone `DELETE /jobs/{id}` leaves: everything else of the job is gone, it answers 404, and its
   * terminal rank refuses every late write (a webhook, a copy) until the table's TTL removes it.
   */
  deletedAt?: string;
}

/**
 * The API's base URL a job was submitted under: its Replicate webhook's URL (`<base>/webhooks/replicate?job=…`, the
 * public URL setting or the URL the client reached), for the links of a prediction delivered without a request.
 */
export function apiBaseUrlOf(job: Pick<Job, 'webhookUrl'>): string {
  return job.webhookUrl?.split(WEBHOOK_PATH)[0] ?? '';
}

/** Where Replicate's webhooks reach the API, under its base URL. */
export const WEBHOOK_PATH = '/webhooks/replicate';

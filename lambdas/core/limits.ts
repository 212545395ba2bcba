/**
 * The service's fixed limits and timings, in one place: sizes that keep a job inside one DynamoDB item and a
 * message inside SQS, and the pace of the reconciler and the consumer. The deployment's tunable defaults are
 * `DEFAULTS` in contract/defaults.ts; the callback sender's fairness constants live with their rules in
 * callback-fairness.ts.
 */

/** The whole body of `POST /jobs`: a job, input included, must fit one DynamoDB item (400 KB). */
export const MAX_SUBMIT_BODY_BYTES = 256 * 1024;
export const MAX_METADATA_BYTES = 16 * 1024;
/** DynamoDB nests documents at most 32 levels deep; the job item wraps input in one more. */
export const MAX_INPUT_DEPTH = 30;
/** Replicate stops any prediction after 30 minutes on public hardware; a day leaves room for deployments. */
export const MAX_TIMEOUT_SECONDS = 24 * 3600;

/**
 * Lambda's payload limit (6 MiB for the whole API Gateway event, body included): a larger webhook body never
 * reaches the function in AWS. Checked by the webhook too, so the limit holds wherever it runs.
 */
export const MAX_WEBHOOK_BODY_BYTES = 6 * 1024 * 1024;
/**
 * SQS takes at most 256 KiB a message; webhook bodies reach 6 MB (a language model's long output). A body over
 * this size goes to S3 first and the message carries its key; the consumer reads it back.
 */
export const MAX_INLINE_BODY_BYTES = 200 * 1024;
/**
 * A job item holds at most 400 KB with its input (up to 256 KiB): an output over this size (a long text from a
 * language model) is stored in the bucket and the job keeps its key.
 */
export const MAX_INLINE_OUTPUT_BYTES = 64 * 1024;
/** The client callback's delivery log keeps the last this many attempts. */
export const MAX_CALLBACK_LOG = 20;

/**
 * A job without a prediction id this long after it was created has none: its submit died (API functions
 * time out at 29 s), or Replicate's answer never came and no webhook has named the job since (a prediction
 * that exists sends `start` when it starts and `completed` when it ends, whatever the filter). Its job is
 * failed as retryable so an Idempotency-Key retry submits again.
 */
export const SUBMIT_GRACE_SECONDS = 300;

/** A consumer's write refused because another writer got there first is re-decided this often. */
export const MAX_WRITE_ATTEMPTS = 3;

/**
 * Quiet jobs the reconciler reads per job it examines, to share a run fairly between owners: the index is read
 * in pages of `id` and `owner` only (about 60 bytes a job), so even 20 000 cost two or three queries.
 */
export const RECONCILE_CANDIDATES_PER_JOB = 20;
/** Replicate answers a poll in about 0.1–0.5 s; 16 at once examine 1 000 jobs well inside one run. */
export const RECONCILE_CONCURRENCY = 16;
/** A reconciler run stops starting new examinations after this long, so it ends before its 60 s timeout. */
export const RECONCILE_RUN_BUDGET_MS = 40_000;

/** How often a callback batch that waits for its owner's share asks again. */
export const SHARE_POLL_MS = 50;
/** How long a callback may still run after its batch's deadline aborted it (its failure path: a log, a retry). */
export const DEADLINE_GRACE_MS = 2_000;

/**
 * Admission (core/admission.ts). Every instance reads the admission state at most this often: a submit reads
 * a cached copy, and the admitter, after clearing the backlog, waits this long (and a margin) before it looks
 * for waiting jobs one last time, so a job queued on a stale copy is never left without an admitter.
 */
export const ADMISSION_STATE_CACHE_MS = 1_000;
/** The admitter runs this long per invocation (its timeout is 90 s), then hands over to a fresh one. */
export const ADMIT_RUN_BUDGET_MS = 60_000;
/**
 * A submit waits at most this long for its create's place in the window (a window can be a minute long at
 * an odd rate); beyond it the job waits for the admitter instead, well inside the API's 29 s.
 */
export const MAX_SLOT_WAIT_MS = 1_000;
/** A kick that finds an admitter running is sent again this much later (until one finds the lease free). */
export const ADMIT_KICK_RETRY_SECONDS = 5;
/** Time an admitter keeps for the creates in flight, giving its lease back and waking the next one. */
export const ADMIT_HANDOVER_MS = 30_000;
/** The admitter reads the waiting line for new arrivals this often: a new owner's job is seen within it. */
export const ADMIT_REFRESH_MS = 500;
/** Creates the admitter has in flight at once (Replicate answers a create in about 0.1–0.5 s). */
export const ADMIT_CONCURRENCY = 16;
/**
 * New arrivals are read from this long before the newest waiting job seen: instances' clocks differ a little,
 * so a job may begin to wait "before" one already seen. Jobs read twice are kept once.
 */
export const ADMIT_CLOCK_SKEW_MS = 5_000;
/** The longest pause a Replicate `Retry-After` imposes on every create (its 429s say a few seconds). */
export const MAX_PAUSE_SECONDS = 60;

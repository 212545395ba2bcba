/**
 * lambdas/core/: the domain — the job, its state machine, validation, output handling, errors — and the ports
 * (this file) through which use cases reach the world. Imports nothing but itself, zod, Node built-ins and
 * the deployment defaults (contract/).
 */
import type { Readable } from 'node:stream';
import type { AdmissionState, WaitingJob } from './admission';
import type { OwnerCallbackState } from './callback-fairness';
import type { DerivativeSpec, EncodedImage } from './derivatives';
import type { CallbackDelivery, Job, JobError, JobStatus, StoredOutput, WebhookEvent } from './job';
import type { QuotaDecision } from './owner-limits';
import type { PartialOutput } from './partial-output';
import type { Prediction } from './prediction';
import type { JobPatch } from './state-machine';
import type { DayUsage, EndedJobUsage } from './usage';

/**
 * What the handlers need from the outside world. Adapters implement these over AWS (and the local
 * emulators, which speak the same APIs); handlers receive them injected, built once per cold start.
 */

/** What a succeeded job stores: its copied files, and its output inline or (when large) by key. */
export interface JobResult {
  outputs: StoredOutput[];
  output?: unknown;
  outputKey?: string;
}

export interface TransferLease {
  /** Outputs copied under earlier holds of the lease, in no particular order. */
  copied: StoredOutput[];
}

export interface JobEnding {
  status: 'failed' | 'canceled';
  error: JobError;
  /** Not earlier than the job's own `updatedAt` (see `laterOf`). */
  updatedAt: string;
}

export interface JobPage {
  jobs: Job[];
  /** Where the next page starts; absent on the last page. */
  cursor?: Record<string, unknown>;
}

export type CreateOutcome = { created: true } | { created: false; existing: Job };
export type WriteOutcome = { applied: true; job: Job } | { applied: false };

export interface JobRepository {
  /** Puts a new job; if the id exists, answers with the existing job instead (Idempotency-Key retries). */
  create(job: Job): Promise<CreateOutcome>;
  get(id: string): Promise<Job | undefined>;
  findByPredictionId(predictionId: string): Promise<Job | undefined>;
  /** Notes that Replicate's answer to creating the job's prediction was lost (only while it has none). */
  markSubmissionUnknown(id: string): Promise<void>;
  /** Records the prediction id submit got back, unless a webhook already recorded the same one. */
  recordPrediction(id: string, predictionId: string): Promise<Job | undefined>;
  /**
   * Ends a job that is not terminal yet, whatever its prediction: cancel, timeout, a submission that failed.
   * `unsubmittedOnly` ends it only while no prediction exists; `retryableSubmission` then lets an
   * Idempotency-Key retry submit again.
   */
  finish(
    id: string,
    ending: JobEnding,
    options?: { unsubmittedOnly?: boolean; retryableSubmission?: boolean },
  ): Promise<WriteOutcome>;
  /** The owner's jobs, newest first, one page at a time. */
  listByOwner(
    owner: string,
    query: { status?: JobStatus; limit: number; cursor?: Record<string, unknown> },
  ): Promise<JobPage>;
  /**
   * Unfinished jobs neither updated nor examined since `before`, longest-quiet first, at most `limit` (the
   * sparse index of unfinished jobs: no table scan).
   */
  listQuiet(before: string, limit: number): Promise<QuietJob[]>;
  /** Sends an unfinished job to the back of the quiet order: the reconciler looked at it `at`. */
  markExamined(id: string, at: string): Promise<void>;
  /** Applies a transition if it still raises the job's rank and the job is not terminal. */
  advance(id: string, patch: JobPatch, result?: JobResult): Promise<WriteOutcome>;
  /**
   * Puts a job that has no prediction yet in the waiting line for capacity (or back in it, keeping its place,
   * after Replicate throttled its create); false when it has a prediction or ended meanwhile.
   */
  markWaiting(id: string, waitingSince: string): Promise<boolean>;
  /** Takes a waiting job out of the line to create its prediction now; undefined if it no longer waits. */
  claimWaiting(id: string, at: string): Promise<Job | undefined>;
  /** Every job waiting for capacity (or those that began to wait after `after`), oldest first. */
  listWaiting(after?: string): Promise<WaitingJob[]>;
  /**
   * Keeps a running job's partial output (its prediction's output so far) when it is larger than the one kept: only
   * while the job runs, for its own prediction. False when refused (ended, another prediction, not larger).
   */
  recordPartialOutput(id: string, predictionId: string, partial: PartialOutput, updatedAt: string): Promise<boolean>;
  /** Appends one callback delivery attempt to the job's delivery log (kept to its last entries). */
  recordCallbackDelivery(id: string, delivery: CallbackDelivery): Promise<void>;
  /**
   * Takes (or renews) the right to copy the job's outputs for a `succeeded` event of `predictionId`, until `until`:
   * only while the job has not ended, belongs to this prediction (or to none yet: then it is bound to it, and
   * leaves the waiting line if it waited, so no second prediction is ever created for it), and no other holder's
   * lease runs. Answers with the job as it stands after the write, and the outputs already copied for it (by this
   * holder or an earlier one, in an earlier delivery); undefined when refused. One request: the consumer takes it
   * before reading the job.
   */
  acquireTransferLease(
    id: string,
    predictionId: string,
    holder: string,
    now: string,
    until: string,
  ): Promise<{ job: Job; lease: TransferLease } | undefined>;
  /**
   * Records one copied output on the job, so a redelivery does not copy it again. False (nothing written) when
   * `holder` no longer holds the lease or the job has ended.
   */
  recordCopiedOutput(id: string, holder: string, output: StoredOutput): Promise<boolean>;
  /**
   * Replaces an ended job by its tombstone (`deletedAt`, its owner, a terminal rank, a TTL): every other attribute,
   * and so its place in every index, is gone. False when the job is not terminal (nothing written).
   */
  replaceByTombstone(id: string, deletedAt: string, expiresAtEpochSeconds: number): Promise<boolean>;
}

/** An upload as recorded when its URL was signed (`POST /uploads`). */
export interface Upload {
  id: string;
  owner: string;
  key: string;
  contentType: string;
  size: number;
  filename?: string;
  createdAt: string;
  /** When the bucket's rule deletes it; a reference to it is refused from then on. */
  expiresAt: string;
}

/** Uploads and the jobs that use them: what `DELETE /jobs/{id}` needs to delete an upload no other job uses. */
export interface UploadRepository {
  create(upload: Upload): Promise<void>;
  /**
   * Notes that `jobId` uses each upload, when `owner` owns it and it has not expired by `now`; answers the ids
   * refused (nothing is noted for them). Done before the job is written: a job never uses an upload unnoted.
   */
  reference(owner: string, uploadIds: string[], jobId: string, now: Date): Promise<string[]>;
  /**
   * `jobId` no longer uses the upload. When no job does any more its record is deleted and it answers the
   * upload (the caller then deletes the object); else undefined.
   */
  release(uploadId: string, jobId: string): Promise<Upload | undefined>;
  /** Takes back `reference`'s note for a job that was never written (its submission was refused); keeps the records. */
  forget(uploadIds: string[], jobId: string): Promise<void>;
}

export interface QuietJob {
  id: string;
  owner: string;
}

/** Object tags (`retention-days`: contract/bucket.ts), set in the same request that writes the object. */
export type ObjectTags = Record<string, string>;

export interface ObjectStore {
  /** Streams `body` into the bucket (multipart for large bodies) and answers with the bytes written. */
  upload(key: string, body: Readable | Buffer, contentType: string, tags?: ObjectTags): Promise<{ size: number }>;
  /**
   * A PUT URL for one object of exactly `size` bytes of `contentType`: both are signed, so S3 refuses a body of
   * another length or type. `headers` are the ones the client must send as signed.
   */
  presignPut(
    key: string,
    object: { contentType: string; size: number },
    expiresInSeconds: number,
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /** The object's size, if it exists (a signed upload exists only once all of its bytes arrived). */
  sizeOf(key: string): Promise<number | undefined>;
  /**
   * A GET URL for one object. Unless `inline` is asked for, it answers `Content-Disposition: attachment`: a
   * browser saves the file instead of rendering it on the bucket's origin.
   */
  presignGet(key: string, expiresInSeconds: number, options?: { inline?: boolean }): Promise<string>;
  /** Deletes these objects (a key that is not there is no error). */
  remove(keys: string[]): Promise<void>;
  putText(key: string, text: string, tags?: ObjectTags): Promise<void>;
  getText(key: string): Promise<string>;
}

export interface QueueMessage {
  /** Where the prediction came from: a verified webhook, or a poll by the reconciler. */
  source: 'webhook' | 'poll';
  receivedAt: string;
  webhookId?: string;
  /** The job the prediction belongs to when the sender knows it (polls do; webhooks read it from the body). */
  jobId?: string;
  /** The prediction JSON, exactly as received; or `bodyKey` naming where it was stored when too big. */
  body?: string;
  bodyKey?: string;
}

/** A queue of messages of one kind: prediction events, or callbacks to deliver. */
export interface Queue<Message> {
  /** Queues a message, received no sooner than `delaySeconds` from now (at most 900). */
  send(message: Message, delaySeconds?: number): Promise<void>;
  /** Makes a received message visible again after `seconds` (a message that should be retried later). */
  retryLater(receiptHandle: string, seconds: number): Promise<void>;
}

export type JobQueue = Queue<QueueMessage>;

/** A message as received from a queue: which one, and the handle that makes it visible again later. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
}

/** A job that ended and has a `callbackUrl`: its callback is delivered (and retried) from its own queue. */
export interface CallbackMessage {
  jobId: string;
  /** Attempts made before this message: set when a callback that had to wait went back to the queue. */
  attempts?: number;
}
export type CallbackQueue = Queue<CallbackMessage>;

export interface Secrets {
  /** The key each owner's callback signing secret is derived from. */
  callbackMasterKey(): Promise<Buffer>;
  replicateApiToken(): Promise<string>;
  /**
   * The webhook signing keys in force: more than one while a secret is being rotated. Throws
   * `InvalidSigningSecret` (webhook-signature.ts) when the setting is unset or any entry is malformed.
   */
  webhookSigningKeys(): Promise<Buffer[]>;
}

export interface CreatePredictionRequest {
  model: string;
  version?: string;
  /** `owner/name` of a Replicate deployment: the prediction is created on it (model and version are unused). */
  deployment?: string;
  /** Replicate's deadline (`Cancel-After`): it stops the prediction then even if our own cancel never reaches it. */
  cancelAfterSeconds?: number;
  input: Record<string, unknown>;
  webhook: string;
  webhookEvents: WebhookEvent[];
}

export interface ReplicateGateway {
  createPrediction(request: CreatePredictionRequest): Promise<Prediction>;
  getPrediction(id: string): Promise<Prediction>;
  cancelPrediction(id: string): Promise<Prediction>;
}

/** An output file opened for reading, already checked against the host allowlist. */
export interface OpenedOutput {
  body: Readable;
  contentType?: string;
  contentLength?: number;
}

export interface OutputSource {
  open(url: string): Promise<OpenedOutput>;
}

/**
 * Per-owner admission: conditional counters. `acquire` takes a slot (and a daily count) or says which
 * limit is reached; `release` gives the slot back when the job ends, however it ends.
 */
export interface OwnerQuota {
  acquire(owner: string, now: Date): Promise<QuotaDecision>;
  /**
   * Gives back the slot taken in counter shard `shard` (the job's `quotaShard`; absent before sharding: 0), and with
   * `refundDaily` the day's count too, but only while the counter is still on the UTC day of `countedAt` (when the
   * count was taken: the job's submission): a refund never lowers another day's count.
   */
  release(owner: string, options?: { shard?: number; refundDaily?: boolean; countedAt?: Date }): Promise<void>;
  /** Counts a submission Replicate refused against the owner's per-minute refusal limit. */
  recordRefusal(owner: string, now: Date): Promise<void>;
}

/**
 * The usage ledger (core/usage.ts): per owner and UTC day, jobs accepted, how they ended, predict time, cost.
 * Each job is added once: `recordEnded` is called only by the writer whose terminal write succeeded (jobEnded).
 */
export interface UsageLedger {
  /** Counts a job accepted (its record created) on `day`; `attempt` names it (core/usage.ts attemptOf). */
  recordSubmitted(owner: string, attempt: string, day: string): Promise<void>;
  /** Adds an ended job to its day (the day it was submitted). */
  recordEnded(owner: string, usage: EndedJobUsage): Promise<void>;
  /** The owner's stored days among `days` (at most 100); a day with nothing recorded is absent. */
  read(owner: string, days: readonly string[]): Promise<Map<string, DayUsage>>;
}

/**
 * The shared pace of prediction creates at Replicate (core/admission.ts), and the admission state every
 * instance reads before creating at once.
 */
export interface Admission {
  /** The least time between two creates at the pace (a window's length over its capacity). */
  readonly spacingMs: number;
  /** The shared state, read at most about a second ago (every submit reads it: a cache, not a hot key). */
  state(now: Date): Promise<AdmissionState>;
  /**
   * Takes one create from the current window: granted with the instant (epoch ms) its slot starts
   * (core/admission.ts `slotStart`); else how long until the next window opens.
   */
  tryTake(now: Date): Promise<{ granted: true; slotAt: number } | { granted: false; retryInMs: number }>;
  /** Notes that jobs wait; true when this call started the backlog (the caller then wakes the admitter). */
  startBacklog(now: Date): Promise<boolean>;
  /** No job waits any more: submits may create at once again. */
  clearBacklog(): Promise<void>;
  /** No create before `until` (Replicate's Retry-After); an earlier pause never shortens a later one. */
  pause(until: Date): Promise<void>;
  /** The admitter's lease, so one admitter runs at a time; false while another holds it. */
  lease(holder: string, now: Date, until: Date): Promise<boolean>;
  releaseLease(holder: string): Promise<void>;
}

/** Wakes the admitter: jobs wait (a backlog began, an admitter ran out of time, the reconciler found some). */
export interface AdmissionKick {
  reason: 'backlog' | 'continue' | 'reconciler';
}
export type AdmissionKicks = Queue<AdmissionKick>;

/** A client's callback endpoint: one POST, answered by its status (0 when no answer came, or `signal` gave up). */
export interface CallbackEndpoint {
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ status: number; error?: string }>;
}

/**
 * The callback sender's state per owner: leases of the batches delivering its callbacks, failed rounds
 * (core/callback-fairness).
 */
export interface CallbackOwners {
  read(owner: string): Promise<OwnerCallbackState>;
  /** Replaces the owner's leases, unless another batch changed them since `read` was read; false then. */
  lease(owner: string, read: OwnerCallbackState, leases: Record<string, number>, now: Date): Promise<boolean>;
  /** A round ended: the batch's lease is given back and the round counted (one that delivered resets the failures). */
  settle(owner: string, batchId: string, delivered: boolean, now: Date): Promise<void>;
}

/** Encodes image derivatives (core/derivatives.ts) of an image output's bytes. */
export interface ImageDeriver {
  /**
   * One derivative of `source`, fitted into the spec's box (aspect ratio kept, never upscaled). Throws
   * `DerivativeFailure`: `not_an_image` when the bytes do not decode, `too_many_pixels` past
   * MAX_DERIVATIVE_PIXELS (checked from the header, before any pixel is decoded), `derivative_failed` otherwise.
   */
  derive(source: Buffer, spec: DerivativeSpec): Promise<EncodedImage>;
}

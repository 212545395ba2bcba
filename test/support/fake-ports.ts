/**
 * In-memory fakes of the ports in lambdas/core/ports.ts, for unit tests of the use cases. Each keeps the
 * semantics of its real adapter that the use cases rely on (the job repository's named conditions above all),
 * records what was asked of it, and can be told to answer otherwise. Fakes stand in for ports only, never for
 * the code under test.
 */

import { Readable } from 'node:stream';
import { WasmVipsImages } from '../../lambdas/adapters/wasm-vips-images';
import { type AdmissionState, slotStart, type WaitingJob } from '../../lambdas/core/admission';
import { NO_CALLBACK_STATE, type OwnerCallbackState } from '../../lambdas/core/callback-fairness';
import { DEFAULT_CREDIT_RULES } from '../../lambdas/core/daily-credits';
import { OutputFailure } from '../../lambdas/core/errors';
import { HostAllowlist, REPLICATE_OUTPUT_HOSTS } from '../../lambdas/core/host-allowlist';
import {
  type CallbackDelivery,
  isTerminal,
  type Job,
  type JobStatus,
  type StoredOutput,
  TERMINAL_RANK,
} from '../../lambdas/core/job';
import { MAX_CALLBACK_LOG } from '../../lambdas/core/limits';
import type { Log } from '../../lambdas/core/log';
import type { MetricName, Metrics } from '../../lambdas/core/metrics';
import {
  DEFAULT_LIMITS,
  type Limits,
  minuteOf,
  type QuotaDecision,
  secondsUntilNextDay,
  secondsUntilNextMinute,
} from '../../lambdas/core/owner-limits';
import type { PartialOutput } from '../../lambdas/core/partial-output';
import type {
  Admission,
  AdmissionKick,
  CallbackEndpoint,
  CallbackMessage,
  CallbackOwners,
  CreateOutcome,
  CreatePredictionRequest,
  JobEnding,
  JobPage,
  JobRepository,
  JobResult,
  ObjectStore,
  ObjectTags,
  OpenedOutput,
  OutputSource,
  OwnerQuota,
  Queue,
  QueueMessage,
  QuietJob,
  ReplicateGateway,
  Secrets,
  TransferLease,
  Upload,
  UploadRepository,
  UsageLedger,
  WriteOutcome,
} from '../../lambdas/core/ports';
import type { Prediction } from '../../lambdas/core/prediction';
import type { JobPatch } from '../../lambdas/core/state-machine';
import { type DayUsage, EMPTY_DAY, type EndedJobUsage } from '../../lambdas/core/usage';
import { InvalidSigningSecret, parseSigningSecrets } from '../../lambdas/core/webhook-signature';
import type { Dependencies, HandlerSettings } from '../../lambdas/use-cases/dependencies';

const copy = <T>(value: T): T => structuredClone(value);

/** What the jobs table holds per job beyond the job itself (internal attributes the adapter strips on read). */
interface Row {
  job: Job;
  /** On the sparse `unfinished` index while set: only unfinished jobs have it. */
  checkAt?: string;
  lease?: { holder: string; until: string };
  copied?: Record<number, StoredOutput>;
  submitRetryable?: boolean;
}

/**
 * The jobs table, with the DynamoDB adapter's conditions (dynamo-job-repository.ts): a write only raises the
 * rank, terminal is final, `updatedAt` never goes back, an event never touches another prediction's job.
 */
export class FakeJobRepository implements JobRepository {
  readonly rows = new Map<string, Row>();

  /** Puts a job as it is, unconditionally (test setup). */
  seed(job: Job): Job {
    this.rows.set(job.id, { job: copy(job), checkAt: isTerminal(job.status) ? undefined : job.updatedAt });
    return job;
  }

  /** The stored row, internal attributes included. */
  row(id: string): Row | undefined {
    return this.rows.get(id);
  }

  async replaceByTombstone(id: string, deletedAt: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || !isTerminal(row.job.status)) return false;
    const { owner, status, model, createdAt } = row.job;
    const tombstone = { id, owner, status, rank: TERMINAL_RANK, model, outputs: [], error: null, createdAt };
    this.rows.set(id, { job: { ...tombstone, updatedAt: deletedAt, deletedAt } as unknown as Job });
    return true;
  }

  async create(job: Job): Promise<CreateOutcome> {
    const row = this.rows.get(job.id);
    // jobIsNew OR failedSubmissionMayRetry
    if (!row || (row.submitRetryable && row.job.requestHash === job.requestHash)) {
      this.seed(job);
      return { created: true };
    }
    return { created: false, existing: copy(row.job) };
  }

  async get(id: string): Promise<Job | undefined> {
    const row = this.rows.get(id);
    return row && copy(row.job);
  }

  async findByPredictionId(predictionId: string): Promise<Job | undefined> {
    for (const row of this.rows.values()) if (row.job.predictionId === predictionId) return copy(row.job);
    return undefined;
  }

  async markSubmissionUnknown(id: string): Promise<void> {
    const row = this.rows.get(id);
    if (row && !row.job.deletedAt && !row.job.predictionId) row.job.submissionUnknown = true;
  }

  async recordPrediction(id: string, predictionId: string): Promise<Job | undefined> {
    const row = this.rows.get(id);
    if (row && !row.job.deletedAt && samePrediction(row.job, predictionId)) row.job.predictionId = predictionId;
    return this.get(id);
  }

  async finish(
    id: string,
    ending: JobEnding,
    options: { unsubmittedOnly?: boolean; retryableSubmission?: boolean } = {},
  ): Promise<WriteOutcome> {
    const row = this.rows.get(id);
    if (!row || row.job.rank >= TERMINAL_RANK || !notOlder(row.job, ending.updatedAt)) return { applied: false };
    if (options.unsubmittedOnly && row.job.predictionId) return { applied: false };
    const { status, error, updatedAt } = ending;
    Object.assign(row.job, { status, rank: TERMINAL_RANK, error, updatedAt, completedAt: updatedAt });
    delete row.job.waitingSince;
    row.submitRetryable = options.retryableSubmission ?? false;
    endTransfer(row);
    return { applied: true, job: copy(row.job) };
  }

  /** The byOwner index, newest first; the status filter applies after `limit` (a page may come back short). */
  async listByOwner(
    owner: string,
    query: { status?: JobStatus; limit: number; cursor?: Record<string, unknown> },
  ): Promise<JobPage> {
    const key = (job: Job) => `${job.createdAt}\u0000${job.id}`;
    const mine = [...this.rows.values()]
      .map((row) => row.job)
      .filter((job) => job.owner === owner)
      .sort((a, b) => (key(a) < key(b) ? 1 : -1));
    const start = query.cursor ? mine.findIndex((job) => key(job) < key(query.cursor as unknown as Job)) : 0;
    const evaluated = start < 0 ? [] : mine.slice(start, start + query.limit);
    const last = evaluated.at(-1);
    const more = last !== undefined && mine.indexOf(last) < mine.length - 1;
    return {
      jobs: evaluated.filter((job) => !query.status || job.status === query.status).map(copy),
      cursor: more ? { id: last.id, owner: last.owner, createdAt: last.createdAt } : undefined,
    };
  }

  /** The sparse `unfinished` index, by `checkAt` (longest quiet first). */
  async listQuiet(before: string, limit: number): Promise<QuietJob[]> {
    return [...this.rows.values()]
      .filter((row) => row.checkAt !== undefined && row.checkAt < before)
      .sort((a, b) => (a.checkAt! < b.checkAt! ? -1 : a.checkAt! > b.checkAt! ? 1 : 0))
      .slice(0, limit)
      .map((row) => ({ id: row.job.id, owner: row.job.owner }));
  }

  async markExamined(id: string, at: string): Promise<void> {
    const row = this.rows.get(id);
    if (row?.checkAt !== undefined && row.checkAt < at) row.checkAt = at;
  }

  async advance(id: string, patch: JobPatch, result?: JobResult): Promise<WriteOutcome> {
    const row = this.rows.get(id);
    // isNewer AND samePrediction AND notOlder
    if (!row || !(row.job.rank < patch.rank) || !samePrediction(row.job, patch.predictionId)) return { applied: false };
    if (!notOlder(row.job, patch.updatedAt)) return { applied: false };
    const { startedAt, ...rest } = patch;
    const job = row.job;
    delete job.waitingSince; // any step means a prediction exists: out of the waiting line (the adapter's REMOVE)
    for (const [field, value] of Object.entries(rest)) if (value !== undefined) Object.assign(job, { [field]: value });
    job.startedAt ??= startedAt;
    if (result) {
      job.outputs = result.outputs;
      if (result.outputKey) job.outputKey = result.outputKey;
      else job.output = result.output ?? null;
    }
    if (isTerminal(patch.status)) endTransfer(row);
    return { applied: true, job: copy(job) };
  }

  async markWaiting(id: string, waitingSince: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.job.rank >= TERMINAL_RANK || row.job.predictionId) return false;
    row.job.waitingSince = waitingSince;
    return true;
  }

  async claimWaiting(id: string, at: string): Promise<Job | undefined> {
    const row = this.rows.get(id);
    if (!row?.job.waitingSince || row.job.rank >= TERMINAL_RANK || row.job.predictionId) return undefined;
    delete row.job.waitingSince;
    row.job.admittedAt = at;
    return copy(row.job);
  }

  /** The sparse `waiting` index, oldest first. */
  async listWaiting(after?: string): Promise<WaitingJob[]> {
    return [...this.rows.values()]
      .map((row) => row.job)
      .filter((job) => job.waitingSince !== undefined && (after === undefined || job.waitingSince > after))
      .map((job) => ({ id: job.id, owner: job.owner, waitingSince: job.waitingSince! }))
      .sort((a, b) => (a.waitingSince < b.waitingSince ? -1 : a.waitingSince > b.waitingSince ? 1 : 0));
  }

  async recordPartialOutput(id: string, predictionId: string, partial: PartialOutput, updatedAt: string) {
    const job = this.rows.get(id)?.job;
    // the adapter's condition: running, its own prediction, notOlder, and larger than the one kept
    if (!job || job.rank >= TERMINAL_RANK || job.predictionId !== predictionId || !notOlder(job, updatedAt))
      return false;
    if (job.partialOutputSize !== undefined && !(job.partialOutputSize < partial.size)) return false;
    Object.assign(job, { partialOutput: JSON.parse(partial.json), partialOutputSize: partial.size, updatedAt });
    return true;
  }

  async recordCallbackDelivery(id: string, delivery: CallbackDelivery): Promise<void> {
    const job = this.rows.get(id)?.job;
    if (job && !job.deletedAt)
      job.callbackDeliveries = [...(job.callbackDeliveries ?? []), delivery].slice(-MAX_CALLBACK_LOG);
  }

  async acquireTransferLease(
    id: string,
    predictionId: string,
    holder: string,
    now: string,
    until: string,
  ): Promise<{ job: Job; lease: TransferLease } | undefined> {
    const row = this.rows.get(id);
    // the adapter's condition: exists, not ended, samePrediction, and leaseFree (nobody holds it, it expired, or we do)
    if (!row || row.job.rank >= TERMINAL_RANK || !samePrediction(row.job, predictionId)) return undefined;
    if (row.lease && !(row.lease.until < now) && row.lease.holder !== holder) return undefined;
    row.lease = { holder, until };
    row.copied ??= {};
    row.job.predictionId ??= predictionId; // bound to this prediction, out of the waiting line
    delete row.job.waitingSince;
    return { job: copy(row.job), lease: { copied: Object.values(copy(row.copied)) } };
  }

  async recordCopiedOutput(id: string, holder: string, output: StoredOutput): Promise<boolean> {
    const row = this.rows.get(id);
    // leaseHeldBy: the holder only, not the lease's expiry
    if (!row || row.job.rank >= TERMINAL_RANK || row.lease?.holder !== holder) return false;
    row.copied![output.index] = copy(output);
    return true;
  }
}

const samePrediction = (job: Job, predictionId: string) => !job.predictionId || job.predictionId === predictionId;
const notOlder = (job: Job, updatedAt: string) => job.updatedAt <= updatedAt;
/** REMOVE_WHEN_TERMINAL: the job leaves the unfinished index, its transfer is over, its partial output goes. */
function endTransfer(row: Row): void {
  delete row.job.partialOutput;
  row.checkAt = undefined;
  row.lease = undefined;
  row.copied = undefined;
}

/** Per-owner counters with dynamo-owner-quota.ts's decisions (no leak repair: a fake leaks nothing). */
export class FakeOwnerQuota implements OwnerQuota {
  readonly counters = new Map<
    string,
    { inFlight: number; day?: string; accepted: number; minute?: string; refusals: number }
  >();

  constructor(readonly limits: Limits = DEFAULT_LIMITS) {}

  of(owner: string) {
    if (!this.counters.has(owner)) this.counters.set(owner, { inFlight: 0, accepted: 0, refusals: 0 });
    return this.counters.get(owner)!;
  }

  async acquire(owner: string, now: Date): Promise<QuotaDecision> {
    const counter = this.of(owner);
    const today = now.toISOString().slice(0, 10);
    if (counter.minute === minuteOf(now) && counter.refusals >= this.limits.maxRefusalsPerMinute) {
      return { granted: false, limit: 'refusals', retryAfterSeconds: secondsUntilNextMinute(now) };
    }
    if (counter.inFlight >= this.limits.maxInFlight)
      return { granted: false, limit: 'in_flight', retryAfterSeconds: 10 };
    if (counter.day === today && counter.accepted >= this.limits.maxPerDay) {
      return { granted: false, limit: 'daily', retryAfterSeconds: secondsUntilNextDay(now) };
    }
    counter.inFlight++;
    counter.accepted = counter.day === today ? counter.accepted + 1 : 1;
    counter.day = today;
    return { granted: true, shard: 0 };
  }

  async release(owner: string, options: { refundDaily?: boolean; countedAt?: Date } = {}): Promise<void> {
    const counter = this.of(owner);
    if (counter.inFlight <= 0) return;
    counter.inFlight--;
    const today = (options.countedAt ?? new Date()).toISOString().slice(0, 10);
    if (options.refundDaily === true && counter.day === today && counter.accepted > 0) counter.accepted--;
  }

  async recordRefusal(owner: string, now: Date): Promise<void> {
    const counter = this.of(owner);
    counter.refusals = counter.minute === minuteOf(now) ? counter.refusals + 1 : 1;
    counter.minute = minuteOf(now);
  }
}

/** The usage ledger's day items, in memory: counted as dynamo-usage-ledger.ts counts them. */
export class FakeUsageLedger implements UsageLedger {
  readonly days = new Map<string, DayUsage>();

  private day(owner: string, day: string): DayUsage {
    const key = `${owner}#${day}`;
    if (!this.days.has(key)) this.days.set(key, { ...EMPTY_DAY });
    return this.days.get(key)!;
  }

  async recordSubmitted(owner: string, _attempt: string, day: string): Promise<void> {
    this.day(owner, day).submitted++;
  }

  async recordEnded(owner: string, usage: EndedJobUsage): Promise<void> {
    const day = this.day(owner, usage.day);
    day[usage.outcome]++;
    day.predictMillis += usage.predictMillis;
    if (usage.costNanoUsd === undefined) day.unpricedJobs++;
    else {
      day.pricedJobs++;
      day.costNanoUsd += usage.costNanoUsd;
    }
  }

  async read(owner: string, days: readonly string[]): Promise<Map<string, DayUsage>> {
    const found = new Map<string, DayUsage>();
    for (const day of days) {
      const stored = this.days.get(`${owner}#${day}`);
      if (stored) found.set(day, { ...stored });
    }
    return found;
  }
}

/** The bucket. Presigned URLs are readable fakes: `https://bucket.test/<key>?expires=<s>[&inline]`. */
export class FakeObjectStore implements ObjectStore {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string; tags?: ObjectTags }>();

  async upload(
    key: string,
    body: Readable | Buffer,
    contentType: string,
    tags?: ObjectTags,
  ): Promise<{ size: number }> {
    const chunks: Buffer[] = [];
    if (Buffer.isBuffer(body)) chunks.push(body);
    else for await (const chunk of body) chunks.push(Buffer.from(chunk));
    const bytes = Buffer.concat(chunks);
    this.objects.set(key, { bytes, contentType, ...(tags ? { tags } : {}) });
    return { size: bytes.length };
  }

  async presignPut(key: string, object: { contentType: string; size: number }, expiresInSeconds: number) {
    const headers = { 'content-type': object.contentType, 'content-length': String(object.size) };
    return { url: `https://bucket.test/${key}?put&expires=${expiresInSeconds}`, headers };
  }

  async sizeOf(key: string): Promise<number | undefined> {
    return this.objects.get(key)?.bytes.length;
  }

  async presignGet(key: string, expiresInSeconds: number, options: { inline?: boolean } = {}): Promise<string> {
    return `https://bucket.test/${key}?expires=${expiresInSeconds}${options.inline ? '&inline' : ''}`;
  }

  async remove(keys: string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  async putText(key: string, text: string, tags?: ObjectTags): Promise<void> {
    this.objects.set(key, {
      bytes: Buffer.from(text, 'utf8'),
      contentType: 'application/json',
      ...(tags ? { tags } : {}),
    });
  }

  async getText(key: string): Promise<string> {
    const object = this.objects.get(key);
    if (!object) throw new Error(`NoSuchKey: ${key}`);
    return object.bytes.toString('utf8');
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }
}

/** Uploads with the adapter's conditions: owner, expiry, and a set of the jobs that use each. */
export class FakeUploadRepository implements UploadRepository {
  readonly uploads = new Map<string, Upload & { jobs: Set<string> }>();

  async create(upload: Upload): Promise<void> {
    if (this.uploads.has(upload.id)) throw new Error('ConditionalCheckFailed');
    this.uploads.set(upload.id, { ...upload, jobs: new Set() });
  }

  async reference(owner: string, uploadIds: string[], jobId: string, now: Date): Promise<string[]> {
    const refused: string[] = [];
    for (const id of uploadIds) {
      const upload = this.uploads.get(id);
      if (!upload || upload.owner !== owner || upload.expiresAt <= now.toISOString()) refused.push(id);
      else upload.jobs.add(jobId);
    }
    return refused;
  }

  async forget(uploadIds: string[], jobId: string): Promise<void> {
    for (const id of uploadIds) this.uploads.get(id)?.jobs.delete(jobId);
  }

  async release(uploadId: string, jobId: string): Promise<Upload | undefined> {
    const upload = this.uploads.get(uploadId);
    if (!upload) return undefined;
    upload.jobs.delete(jobId);
    if (upload.jobs.size > 0) return undefined;
    this.uploads.delete(uploadId);
    const { jobs: _jobs, ...rest } = upload;
    return rest;
  }
}

/** Records every send and every `retryLater`; `failing` makes sends throw it. */
export class FakeQueue<Message> implements Queue<Message> {
  readonly sent: Array<{ message: Message; delaySeconds?: number }> = [];
  readonly retried: Array<{ receiptHandle: string; seconds: number }> = [];
  failing?: Error;

  async send(message: Message, delaySeconds?: number): Promise<void> {
    if (this.failing) throw this.failing;
    this.sent.push({ message: copy(message), ...(delaySeconds === undefined ? {} : { delaySeconds }) });
  }

  async retryLater(receiptHandle: string, seconds: number): Promise<void> {
    this.retried.push({ receiptHandle, seconds });
  }

  messages(): Message[] {
    return this.sent.map((each) => each.message);
  }
}

/**
 * Admission with the adapter's semantics and no cache: `capacity` creates per window (windows change when the
 * fake clock passes `windowMs`), a backlog flag, a pause, and one lease.
 */
export class FakeAdmission implements Admission {
  readonly taken = new Map<number, number>();
  current: AdmissionState = {};
  holder?: { holder: string; until: number };

  constructor(
    public capacity = Infinity,
    private readonly windowMs = 1000,
  ) {}

  get spacingMs(): number {
    return Number.isFinite(this.capacity) && this.capacity > 0 ? this.windowMs / this.capacity : 0;
  }

  async state(): Promise<AdmissionState> {
    return { ...this.current };
  }
  async tryTake(now: Date): Promise<{ granted: true; slotAt: number } | { granted: false; retryInMs: number }> {
    const window = Math.floor(now.getTime() / this.windowMs);
    const taken = this.taken.get(window) ?? 0;
    if (taken >= this.capacity) return { granted: false, retryInMs: (window + 1) * this.windowMs - now.getTime() };
    this.taken.set(window, taken + 1);
    const pace = { windowSeconds: this.windowMs / 1000, capacity: Number.isFinite(this.capacity) ? this.capacity : 1 };
    return { granted: true, slotAt: Number.isFinite(this.capacity) ? slotStart(pace, window, taken + 1) : 0 };
  }
  async startBacklog(now: Date): Promise<boolean> {
    if (this.current.backlogSince) return false;
    this.current.backlogSince = now.toISOString();
    return true;
  }
  async clearBacklog(): Promise<void> {
    delete this.current.backlogSince;
  }
  async pause(until: Date): Promise<void> {
    if (!this.current.pausedUntil || this.current.pausedUntil < until.toISOString()) {
      this.current.pausedUntil = until.toISOString();
    }
  }
  async lease(holder: string, now: Date, until: Date): Promise<boolean> {
    if (this.holder && this.holder.until >= now.getTime() && this.holder.holder !== holder) return false;
    this.holder = { holder, until: until.getTime() };
    return true;
  }
  async releaseLease(holder: string): Promise<void> {
    if (this.holder?.holder === holder) this.holder = undefined;
  }
}

export const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** The secrets as settings (secrets.ts parses them the same way); `webhookSecret` may be broken on purpose. */
export class FakeSecrets implements Secrets {
  constructor(
    public webhookSecret: string | Error = WEBHOOK_SECRET,
    public callbackKey = Buffer.from('a callback master key for tests'),
  ) {}

  async callbackMasterKey(): Promise<Buffer> {
    return this.callbackKey;
  }

  async replicateApiToken(): Promise<string> {
    return 'r8_test';
  }

  async webhookSigningKeys(): Promise<Buffer[]> {
    if (this.webhookSecret instanceof Error) throw this.webhookSecret;
    const setting = this.webhookSecret.trim();
    if (!setting || setting === 'UNSET') throw new InvalidSigningSecret('not_set');
    return parseSigningSecrets(setting);
  }
}

type Method = 'createPrediction' | 'getPrediction' | 'cancelPrediction';
/** A scripted answer: a prediction, an error to throw, or a function computing either (it may act meanwhile). */
type Answer = Partial<Prediction> | Error | ((argument: unknown) => Partial<Prediction> | Promise<Partial<Prediction>>);

/**
 * Replicate. Unscripted calls answer as Replicate would for predictions it knows (`predictions`): create makes
 * one `starting`, get reads it, cancel marks it canceled; an unknown id is a 404 (`ReplicateFailure` not_found,
 * which tests import and throw themselves when they script failures).
 */
export class FakeReplicateGateway implements ReplicateGateway {
  readonly predictions = new Map<string, Prediction>();
  readonly calls: Array<{ method: Method; argument: unknown }> = [];
  private readonly scripts: Record<Method, Answer[]> = {
    createPrediction: [],
    getPrediction: [],
    cancelPrediction: [],
  };
  private created = 0;

  /** The next call of `method` answers `answer` (in the order scripted). */
  next(method: Method, ...answers: Answer[]): this {
    this.scripts[method].push(...answers);
    return this;
  }

  callsOf(method: Method): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.argument);
  }

  createPrediction(request: CreatePredictionRequest): Promise<Prediction> {
    const prediction = { id: `pred_${++this.created}`, status: 'starting', webhook: request.webhook };
    return this.answer('createPrediction', request, prediction, () => {
      this.predictions.set(prediction.id, prediction);
      return prediction;
    });
  }

  getPrediction(id: string): Promise<Prediction> {
    return this.answer('getPrediction', id, { id }, () => this.known(id));
  }

  cancelPrediction(id: string): Promise<Prediction> {
    return this.answer('cancelPrediction', id, { id }, () => Object.assign(this.known(id), { status: 'canceled' }));
  }

  /** A scripted answer is read as a change to `base`, the prediction the call is about. */
  private async answer(method: Method, argument: unknown, base: Partial<Prediction>, otherwise: () => Prediction) {
    this.calls.push({ method, argument });
    const scripted = this.scripts[method].shift();
    if (scripted === undefined) return copy(otherwise());
    if (scripted instanceof Error) throw scripted;
    const answer = typeof scripted === 'function' ? await scripted(argument) : scripted;
    return { status: 'starting', ...base, ...answer } as Prediction;
  }

  private known(id: string): Prediction {
    const prediction = this.predictions.get(id);
    if (!prediction) throw new Error(`FakeReplicateGateway: no prediction ${id}; script an answer or a failure`);
    return prediction;
  }
}

/** Output files by URL: given bytes, or an error. An unknown URL answers like a 404 (a permanent failure). */
export class FakeOutputSource implements OutputSource {
  readonly files = new Map<string, { bytes: Buffer; contentType?: string } | Error>();
  readonly opened: string[] = [];

  serve(url: string, content: string | Buffer | Error, contentType?: string): this {
    this.files.set(url, content instanceof Error ? content : { bytes: Buffer.from(content), contentType });
    return this;
  }

  async open(url: string): Promise<OpenedOutput> {
    this.opened.push(url);
    const file = this.files.get(url);
    if (!file) throw new OutputFailure('output_download_failed', 'Downloading an output answered 404', true);
    if (file instanceof Error) throw file;
    return { body: Readable.from([file.bytes]), contentType: file.contentType, contentLength: file.bytes.length };
  }
}

/** Client endpoints: answers the scripted statuses in order, then `status`; records every post. */
export class FakeCallbackEndpoint implements CallbackEndpoint {
  readonly posts: Array<{ url: string; body: string; headers: Record<string, string> }> = [];
  readonly answers: Array<{ status: number; error?: string }> = [];
  status = 200;

  async post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; error?: string }> {
    this.posts.push({ url, body, headers });
    return this.answers.shift() ?? { status: this.status };
  }
}

/** dynamo-callback-owners.ts: a lease is taken only on the version it was read at; settle moves the version. */
export class FakeCallbackOwners implements CallbackOwners {
  readonly states = new Map<string, OwnerCallbackState>();

  async read(owner: string): Promise<OwnerCallbackState> {
    return copy(this.states.get(owner) ?? NO_CALLBACK_STATE);
  }

  async lease(owner: string, read: OwnerCallbackState, leases: Record<string, number>): Promise<boolean> {
    const state = await this.read(owner);
    if (state.version !== read.version) return false;
    this.states.set(owner, { ...state, leases: copy(leases), version: state.version + 1 });
    return true;
  }

  async settle(owner: string, batchId: string, delivered: boolean, now: Date): Promise<void> {
    const state = await this.read(owner);
    delete state.leases[batchId];
    if (delivered) state.failures = 0;
    else Object.assign(state, { failures: state.failures + 1, lastFailureAt: now.getTime() });
    this.states.set(owner, { ...state, version: state.version + 1 });
  }
}

/** A clock that moves only when told. */
export class FakeTime {
  constructor(public now = new Date('2026-03-01T12:00:00.000Z')) {}
  readonly clock = (): Date => new Date(this.now);
  advance(seconds: number): Date {
    this.now = new Date(this.now.getTime() + seconds * 1000);
    return this.clock();
  }
}

export class RecordingLog implements Log {
  readonly lines: Array<{
    level: 'debug' | 'info' | 'warn' | 'error';
    message: string;
    fields: Record<string, unknown>;
  }> = [];
  debug = this.record('debug');
  info = this.record('info');
  warn = this.record('warn');
  error = this.record('error');

  messages(level?: 'debug' | 'info' | 'warn' | 'error'): string[] {
    return this.lines.filter((line) => !level || line.level === level).map((line) => line.message);
  }

  private record(level: 'debug' | 'info' | 'warn' | 'error') {
    return (message: string, ...extra: Record<string, unknown>[]) =>
      void this.lines.push({ level, message, fields: Object.assign({}, ...extra) });
  }
}

export class RecordingMetrics implements Metrics {
  readonly counts: Array<{ name: MetricName; value: number; dimensions?: Record<string, string> }> = [];
  count(name: MetricName, value = 1, dimensions?: Record<string, string>): void {
    this.counts.push({ name, value, ...(dimensions ? { dimensions } : {}) });
  }
  milliseconds(): void {}
  bytes(): void {}
  total(name: MetricName): number {
    return this.counts
      .filter((each) => each.name === name && !each.dimensions)
      .reduce((sum, each) => sum + each.value, 0);
  }
}

export const TEST_SETTINGS: HandlerSettings = {
  presignedUrlSeconds: 900,
  maxPreferWaitSeconds: 25,
  transferLeaseSeconds: 120,
  transferConcurrency: 2,
  callbacks: { httpsOnly: true, retryBaseSeconds: 10, deadlineMs: 5_000 },
  jobTimeoutSeconds: 3_600,
  reconcileAfterSeconds: 120,
  reconcileBatchSize: 10,
  downloadRetry: { attempts: 2, baseDelayMs: 0 },
  outputLimits: { maxFiles: 5, maxTotalBytes: 1_000 },
  uploads: { maxBytes: 1024 * 1024, retentionDays: 7, urlSeconds: 900 },
  usage: { prices: {}, credits: DEFAULT_CREDIT_RULES, budgetsOf: () => ({}) },
};

/** Dependencies made of the fakes above, each reachable with its own type. */
export interface FakeDependencies extends Dependencies {
  jobs: FakeJobRepository;
  quota: FakeOwnerQuota;
  usage: FakeUsageLedger;
  admission: FakeAdmission;
  admissionKicks: FakeQueue<AdmissionKick>;
  objects: FakeObjectStore;
  uploads: FakeUploadRepository;
  queue: FakeQueue<QueueMessage>;
  callbacks: FakeQueue<CallbackMessage>;
  callbackDeadLetters: FakeQueue<CallbackMessage>;
  callbackEndpoint: FakeCallbackEndpoint;
  callbackOwners: FakeCallbackOwners;
  secrets: FakeSecrets;
  replicate: FakeReplicateGateway;
  outputs: FakeOutputSource;
  log: RecordingLog;
  metrics: RecordingMetrics;
  time: FakeTime;
}

export function fakeDependencies(overrides: Partial<FakeDependencies> = {}): FakeDependencies {
  const time = overrides.time ?? new FakeTime();
  return {
    jobs: new FakeJobRepository(),
    quota: new FakeOwnerQuota(),
    usage: new FakeUsageLedger(),
    admission: new FakeAdmission(),
    admissionKicks: new FakeQueue(),
    objects: new FakeObjectStore(),
    uploads: new FakeUploadRepository(),
    // The real adapter: libvips in WebAssembly, loaded only by a test that makes a derivative.
    images: new WasmVipsImages(),
    queue: new FakeQueue(),
    callbacks: new FakeQueue(),
    callbackDeadLetters: new FakeQueue(),
    callbackEndpoint: new FakeCallbackEndpoint(),
    callbackOwners: new FakeCallbackOwners(),
    secrets: new FakeSecrets(),
    replicate: new FakeReplicateGateway(),
    outputs: new FakeOutputSource(),
    allowlist: new HostAllowlist(REPLICATE_OUTPUT_HOSTS),
    settings: TEST_SETTINGS,
    log: new RecordingLog(),
    metrics: new RecordingMetrics(),
    ...overrides,
    time,
    clock: time.clock,
  };
}

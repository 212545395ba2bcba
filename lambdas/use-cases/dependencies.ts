/**
 * lambdas/use-cases/: what the service does — submit, cancel, read, list, receive a webhook, apply a prediction
 * event, reconcile, deliver a callback — through the ports this file gathers. Imports core/ and contract/ (the
 * bucket layout) only: no AWS, no HTTP.
 */
import type { Budgets } from '../core/budgets';
import type { CreditRules } from '../core/daily-credits';
import type { HostAllowlist } from '../core/host-allowlist';
import type { Log } from '../core/log';
import type { Metrics } from '../core/metrics';
import type { OutputLimits } from '../core/output-limits';
import type {
  Admission,
  AdmissionKicks,
  CallbackEndpoint,
  CallbackOwners,
  CallbackQueue,
  ImageDeriver,
  JobQueue,
  JobRepository,
  ObjectStore,
  OutputSource,
  OwnerQuota,
  ReplicateGateway,
  Secrets,
  UploadRepository,
  UsageLedger,
} from '../core/ports';
import type { PriceTable } from '../core/prices';
import type { Clock } from '../core/time';

/** Settings the handlers read; the CDK construct's props and the local server's environment fill them. */
export interface HandlerSettings {
  /** Base URL Replicate reaches the webhook under; when unset, taken from the request submit received. */
  publicUrl?: string;
  /** Lifetime of the presigned output URLs `GET /jobs/{id}` returns. */
  presignedUrlSeconds: number;
  /** The longest `Prefer: wait` a create request is held for (core/prefer-wait.ts). */
  maxPreferWaitSeconds: number;
  /** How long a consumer may hold a job's transfer lease: its own timeout, so a crashed holder's lease expires. */
  transferLeaseSeconds: number;
  /** How many output files one consumer copies at once. */
  transferConcurrency: number;
  /**
   * Client callbacks: https only (in AWS), the first retry delay (doubling per attempt, at most 15 min), and
   * how long a batch of them may take before what is still in flight is given up (sqs/batch.ts).
   */
  callbacks: { httpsOnly: boolean; retryBaseSeconds: number; deadlineMs: number };
  /** How long a job may stay unfinished unless it sets its own `timeoutSeconds`. */
  jobTimeoutSeconds: number;
  /** How long a job may be quiet (no update) before the reconciler polls Replicate for it. */
  reconcileAfterSeconds: number;
  /** At most this many quiet jobs examined (polled) per reconciler run: Replicate allows about 3 000 GETs a minute. */
  reconcileBatchSize: number;
  /** Attempts per output file, and the first backoff delay, for transient download errors. */
  downloadRetry: { attempts: number; baseDelayMs: number };
  /** Most files, and most bytes of all files together, one job stores. */
  outputLimits: OutputLimits;
  /** `POST /uploads`: the largest upload, the days it is kept, how long its URL may be used. */
  uploads: { maxBytes: number; retentionDays: number; urlSeconds: number };
  /** Days every job's stored objects are kept (the bucket's rule); undefined: kept until deleted. */
  outputRetentionDays?: number;
  /**
   * The usage ledger: prices for the estimated cost, which ended jobs give their daily count back, and each
   * owner's daily budgets (its OWNER_LIMITS entry).
   */
  usage: { prices: PriceTable; credits: CreditRules; budgetsOf: (owner: string) => Budgets };
}

/** Everything a handler talks to, built once per cold start (or once by the local server) and injected. */
export interface Dependencies {
  jobs: JobRepository;
  quota: OwnerQuota;
  usage: UsageLedger;
  admission: Admission;
  admissionKicks: AdmissionKicks;
  objects: ObjectStore;
  uploads: UploadRepository;
  images: ImageDeriver;
  queue: JobQueue;
  callbacks: CallbackQueue;
  callbackDeadLetters: CallbackQueue;
  callbackEndpoint: CallbackEndpoint;
  callbackOwners: CallbackOwners;
  secrets: Secrets;
  replicate: ReplicateGateway;
  outputs: OutputSource;
  allowlist: HostAllowlist;
  settings: HandlerSettings;
  clock: Clock;
  log: Log;
  metrics: Metrics;
}

import { HostAllowlist, REPLICATE_OUTPUT_HOSTS } from '../core/host-allowlist';
import { DEFAULT_OUTPUT_LIMITS } from '../core/output-limits';
import { parseOwnerLimits, type Limits } from '../core/owner-limits';
import type { HandlerSettings } from '../use-cases/dependencies';

/**
 * Everything a function is told through its environment: resource names and tuning, never secrets (those
 * are read from Secrets Manager by ARN). The CDK construct writes these names; the local server too.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  queueUrl: 'QUEUE_URL',
  callbackQueueUrl: 'CALLBACK_QUEUE_URL',
  callbackDeadLetterQueueUrl: 'CALLBACK_DEAD_LETTER_QUEUE_URL',
  callbackKeySecret: 'CALLBACK_SIGNING_KEY_SECRET_ARN',
  allowPlainHttp: 'ALLOW_PLAIN_HTTP',
  allowPrivateAddresses: 'ALLOW_PRIVATE_ADDRESSES',
  callbackRetryBaseSeconds: 'CALLBACK_RETRY_BASE_SECONDS',
  apiTokenSecret: 'REPLICATE_API_TOKEN_SECRET_ARN',
  webhookSecret: 'REPLICATE_WEBHOOK_SECRET_ARN',
  replicateBaseUrl: 'REPLICATE_API_BASE_URL',
  outputHosts: 'OUTPUT_HOSTS',
  maxOutputBytes: 'MAX_OUTPUT_BYTES',
  maxOutputFiles: 'MAX_OUTPUT_FILES',
  maxOutputTotalBytes: 'MAX_OUTPUT_TOTAL_BYTES',
  downloadTimeoutSeconds: 'DOWNLOAD_TIMEOUT_SECONDS',
  presignedUrlSeconds: 'PRESIGNED_URL_SECONDS',
  transferLeaseSeconds: 'TRANSFER_LEASE_SECONDS',
  publicUrl: 'PUBLIC_URL',
  downloadAttempts: 'DOWNLOAD_ATTEMPTS',
  jobTimeoutSeconds: 'JOB_TIMEOUT_SECONDS',
  reconcileAfterSeconds: 'RECONCILE_AFTER_SECONDS',
  reconcileBatchSize: 'RECONCILE_BATCH_SIZE',
  ownerLimits: 'OWNER_LIMITS',
  downloadRetryBaseMs: 'DOWNLOAD_RETRY_BASE_MS',
} as const;

/**
 * Client callbacks give up on an endpoint that has not connected in 2 s, or not answered 5 s after connecting.
 * A batch of them is given 10 s (the sender's Lambda timeout is 30 s): beyond one delivery's limits, room for
 * reading the job, signing, and recording the attempt.
 */
export const CALLBACK_TIMEOUTS = { connectTimeoutMs: 2_000, firstByteTimeoutMs: 5_000 };
export const CALLBACK_BATCH_DEADLINE_MS = 10_000;

export const DEFAULT_REPLICATE_API_BASE_URL = 'https://api.replicate.com/v1';
/** A third of Replicate's ~3 000 GETs a minute per account, at one run a minute: the rest is left for clients. */
export const DEFAULT_RECONCILE_BATCH_SIZE = 1000;

export interface RuntimeSettings extends HandlerSettings {
  tableName: string;
  bucketName: string;
  queueUrl: string;
  callbackQueueUrl: string;
  callbackDeadLetterQueueUrl: string;
  replicateBaseUrl: string;
  outputHosts: string[];
  maxOutputBytes: number;
  downloadTimeoutMs: number;
  limitsOf: (owner: string) => Limits;
  /**
   * What output downloads and client callbacks may reach. Both off unless the template turns them on (the
   * construct's `localNetwork` prop, which only the local stack sets): https only, public addresses only.
   */
  network: { allowPlainHttp: boolean; allowPrivateAddresses: boolean };
}

type Env = Record<string, string | undefined>;

const required = (env: Env, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is required`);
  return value;
};

const positiveNumber = (env: Env, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Environment variable ${name} must be a positive number`);
  return value;
};

/** Default output hosts: Replicate's file-delivery hosts plus the host of the API base URL. */
export function defaultOutputHosts(replicateBaseUrl: string): string[] {
  return [...REPLICATE_OUTPUT_HOSTS, new URL(replicateBaseUrl).host];
}

export const splitList = (value: string | undefined): string[] =>
  (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export function readSettings(env: Env): RuntimeSettings {
  const replicateBaseUrl = env[ENV.replicateBaseUrl] || DEFAULT_REPLICATE_API_BASE_URL;
  const hosts = splitList(env[ENV.outputHosts]);
  const allowPlainHttp = env[ENV.allowPlainHttp] === 'true';
  return {
    tableName: required(env, ENV.tableName),
    bucketName: required(env, ENV.bucketName),
    queueUrl: required(env, ENV.queueUrl),
    callbackQueueUrl: required(env, ENV.callbackQueueUrl),
    callbackDeadLetterQueueUrl: required(env, ENV.callbackDeadLetterQueueUrl),
    callbacks: {
      httpsOnly: !allowPlainHttp,
      retryBaseSeconds: positiveNumber(env, ENV.callbackRetryBaseSeconds, 10),
      deadlineMs: CALLBACK_BATCH_DEADLINE_MS,
    },
    replicateBaseUrl,
    outputHosts: hosts.length > 0 ? hosts : defaultOutputHosts(replicateBaseUrl),
    maxOutputBytes: positiveNumber(env, ENV.maxOutputBytes, 5 * 1024 ** 3),
    downloadTimeoutMs: positiveNumber(env, ENV.downloadTimeoutSeconds, 600) * 1000,
    presignedUrlSeconds: positiveNumber(env, ENV.presignedUrlSeconds, 3600),
    transferLeaseSeconds: positiveNumber(env, ENV.transferLeaseSeconds, 900),
    transferConcurrency: 4,
    jobTimeoutSeconds: positiveNumber(env, ENV.jobTimeoutSeconds, 600),
    reconcileAfterSeconds: positiveNumber(env, ENV.reconcileAfterSeconds, 120),
    reconcileBatchSize: Math.floor(positiveNumber(env, ENV.reconcileBatchSize, DEFAULT_RECONCILE_BATCH_SIZE)),
    downloadRetry: {
      attempts: positiveNumber(env, ENV.downloadAttempts, 4),
      baseDelayMs: positiveNumber(env, ENV.downloadRetryBaseMs, 1000),
    },
    outputLimits: {
      maxFiles: positiveNumber(env, ENV.maxOutputFiles, DEFAULT_OUTPUT_LIMITS.maxFiles),
      maxTotalBytes: positiveNumber(env, ENV.maxOutputTotalBytes, DEFAULT_OUTPUT_LIMITS.maxTotalBytes),
    },
    publicUrl: env[ENV.publicUrl]?.replace(/\/+$/, '') || undefined,
    limitsOf: parseOwnerLimits(env[ENV.ownerLimits]),
    network: { allowPlainHttp, allowPrivateAddresses: env[ENV.allowPrivateAddresses] === 'true' },
  };
}

export const allowlistFor = (settings: RuntimeSettings) => new HostAllowlist(settings.outputHosts, settings.network.allowPlainHttp);

import { DEFAULTS, downloadTimeoutSecondsFor } from '../../contract/defaults';
import { ENV } from '../../contract/environment';
import { HostAllowlist, REPLICATE_OUTPUT_HOSTS } from '../core/host-allowlist';
import { type Limits, parseOwnerLimits } from '../core/owner-limits';
import { parsePrices } from '../core/prices';
import type { HandlerSettings } from '../use-cases/dependencies';

/**
 * Client callbacks give up on an endpoint that has not connected in 2 s, or not answered 5 s after connecting.
 * A batch of them is given 10 s (the sender's Lambda timeout is 30 s): beyond one delivery's limits, room for
 * reading the job, signing, and recording the attempt.
 */
export const CALLBACK_TIMEOUTS = { connectTimeoutMs: 2_000, firstByteTimeoutMs: 5_000 };
export const CALLBACK_BATCH_DEADLINE_MS = 10_000;

export interface RuntimeSettings extends HandlerSettings {
  tableName: string;
  bucketName: string;
  queueUrl: string;
  callbackQueueUrl: string;
  callbackDeadLetterQueueUrl: string;
  admissionQueueUrl: string;
  replicateBaseUrl: string;
  /** The account's create rate at Replicate, shared by every instance (core/admission.ts). */
  replicateCreatesPerMinute: number;
  /** Keys each sparse index spreads its jobs over (contract/table.ts). */
  indexShards: number;
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
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `true` or `false`; unset or empty: the fallback. */
const flag = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new Error(`Environment variable ${name} must be true or false`);
  return raw === 'true';
};

export function readSettings(env: Env): RuntimeSettings {
  const limitsOf = parseOwnerLimits(env[ENV.ownerLimits]);
  const replicateBaseUrl = env[ENV.replicateBaseUrl] || DEFAULTS.replicateApiBaseUrl;
  const hosts = splitList(env[ENV.outputHosts]);
  const allowPlainHttp = env[ENV.allowPlainHttp] === 'true';
  return {
    tableName: required(env, ENV.tableName),
    bucketName: required(env, ENV.bucketName),
    queueUrl: required(env, ENV.queueUrl),
    callbackQueueUrl: required(env, ENV.callbackQueueUrl),
    callbackDeadLetterQueueUrl: required(env, ENV.callbackDeadLetterQueueUrl),
    admissionQueueUrl: required(env, ENV.admissionQueueUrl),
    replicateCreatesPerMinute: positiveNumber(env, ENV.replicateCreatesPerMinute, DEFAULTS.replicateCreatesPerMinute),
    indexShards: Math.floor(positiveNumber(env, ENV.indexShards, DEFAULTS.indexShards)),
    callbacks: {
      httpsOnly: !allowPlainHttp,
      retryBaseSeconds: positiveNumber(env, ENV.callbackRetryBaseSeconds, DEFAULTS.callbackRetryBaseSeconds),
      deadlineMs: CALLBACK_BATCH_DEADLINE_MS,
    },
    replicateBaseUrl,
    outputHosts: hosts.length > 0 ? hosts : defaultOutputHosts(replicateBaseUrl),
    maxOutputBytes: positiveNumber(env, ENV.maxOutputBytes, DEFAULTS.maxOutputBytes),
    downloadTimeoutMs:
      positiveNumber(env, ENV.downloadTimeoutSeconds, downloadTimeoutSecondsFor(DEFAULTS.consumerTimeoutSeconds)) *
      1000,
    presignedUrlSeconds: positiveNumber(env, ENV.presignedUrlSeconds, DEFAULTS.presignedUrlSeconds),
    maxPreferWaitSeconds: positiveNumber(env, ENV.maxPreferWaitSeconds, DEFAULTS.maxPreferWaitSeconds),
    transferLeaseSeconds: positiveNumber(env, ENV.transferLeaseSeconds, DEFAULTS.consumerTimeoutSeconds),
    transferConcurrency: 4,
    jobTimeoutSeconds: positiveNumber(env, ENV.jobTimeoutSeconds, DEFAULTS.jobTimeoutSeconds),
    reconcileAfterSeconds: positiveNumber(env, ENV.reconcileAfterSeconds, DEFAULTS.reconcileAfterSeconds),
    reconcileBatchSize: Math.floor(positiveNumber(env, ENV.reconcileBatchSize, DEFAULTS.reconcileBatchSize)),
    downloadRetry: {
      attempts: positiveNumber(env, ENV.downloadAttempts, DEFAULTS.downloadAttempts),
      baseDelayMs: positiveNumber(env, ENV.downloadRetryBaseMs, DEFAULTS.downloadRetryBaseMs),
    },
    outputLimits: {
      maxFiles: positiveNumber(env, ENV.maxOutputFiles, DEFAULTS.maxOutputFiles),
      maxTotalBytes: positiveNumber(env, ENV.maxOutputTotalBytes, DEFAULTS.maxOutputTotalBytes),
    },
    uploads: {
      maxBytes: positiveNumber(env, ENV.maxUploadBytes, DEFAULTS.maxUploadBytes),
      retentionDays: positiveNumber(env, ENV.uploadRetentionDays, DEFAULTS.uploadRetentionDays),
      urlSeconds: DEFAULTS.uploadUrlSeconds,
    },
    outputRetentionDays: env[ENV.outputRetentionDays] ? positiveNumber(env, ENV.outputRetentionDays, 1) : undefined,
    publicUrl: env[ENV.publicUrl]?.replace(/\/+$/, '') || undefined,
    limitsOf,
    usage: {
      prices: parsePrices(env[ENV.prices]),
      credits: {
        failuresWithoutOutput: flag(env, ENV.refundFailuresWithoutOutput, DEFAULTS.dailyCredits.failuresWithoutOutput),
        clientCancels: flag(env, ENV.refundClientCancels, DEFAULTS.dailyCredits.clientCancels),
      },
      budgetsOf: limitsOf,
    },
    network: { allowPlainHttp, allowPrivateAddresses: env[ENV.allowPrivateAddresses] === 'true' },
  };
}

export const allowlistFor = (settings: RuntimeSettings) =>
  new HostAllowlist(settings.outputHosts, settings.network.allowPlainHttp);

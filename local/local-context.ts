import { ENV } from '../contract/environment';
import { OwnerLimitsSetting } from '../lambdas/core/owner-limits';
import { LONGEST_PREFER_WAIT_SECONDS } from '../lambdas/core/prefer-wait';
import { PriceTableSetting } from '../lambdas/core/prices';
import type * as z from '../lambdas/core/schema';

/**
 * The local stack's settings as the CDK context its app is synthesized with: every knob reaches the functions
 * through the template, as a deploy would. Each environment variable of `npm start` (the functions' own names,
 * contract/environment.ts) maps to one context key (lib/context-props.ts reads them).
 */
const ENV_TO_CONTEXT: Record<string, string> = {
  [ENV.outputHosts]: 'outputHosts',
  [ENV.maxOutputBytes]: 'maxOutputBytes',
  [ENV.maxOutputFiles]: 'maxOutputFiles',
  [ENV.maxOutputTotalBytes]: 'maxOutputTotalBytes',
  [ENV.presignedUrlSeconds]: 'presignedUrlSeconds',
  [ENV.transferLeaseSeconds]: 'consumerTimeoutSeconds',
  [ENV.reconcileAfterSeconds]: 'reconcileAfterSeconds',
  [ENV.reconcileBatchSize]: 'reconcileBatchSize',
  [ENV.jobTimeoutSeconds]: 'jobTimeoutSeconds',
  [ENV.downloadAttempts]: 'downloadAttempts',
  [ENV.downloadRetryBaseMs]: 'downloadRetryBaseMs',
  [ENV.callbackRetryBaseSeconds]: 'callbackRetryBaseSeconds',
  [ENV.ownerLimits]: 'ownerLimits',
  [ENV.publicUrl]: 'publicUrl',
  [ENV.replicateCreatesPerMinute]: 'replicateCreatesPerMinute',
  [ENV.indexShards]: 'indexShards',
  [ENV.maxUploadBytes]: 'maxUploadBytes',
  [ENV.uploadRetentionDays]: 'uploadRetentionDays',
  [ENV.outputRetentionDays]: 'outputRetentionDays',
  [ENV.prices]: 'prices',
  [ENV.refundFailuresWithoutOutput]: 'refundFailuresWithoutOutput',
  [ENV.refundClientCancels]: 'refundClientCancels',
  [ENV.maxPreferWaitSeconds]: 'maxPreferWaitSeconds',
};

/** Event streams the local stack holds open at once (the events function's reservation, locally). */
export const LOCAL_EVENT_STREAMS = 20;

export const LOCAL_THROTTLE = { rateLimit: 10_000, burstLimit: 20_000, dailyQuota: 100_000_000 };

export interface LocalContextOptions {
  env: Record<string, string | undefined>;
  /**
   * The consumer's timeout, and so how long a transfer lease lasts (`TRANSFER_LEASE_SECONDS` sets it too).
   * Short locally, so a failed event comes back soon: the queue's visibility timeout is this (AWS's minimum;
   * the deployed default is six times a 5-minute timeout).
   */
  consumerTimeoutSeconds: number;
  /** Seconds before a failed event is received again; at least the consumer's timeout. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /**
   * The usage plan's limits per API key. Locally generous by default (a dev loop or a test suite polls far
   * faster than a client in production should); API Gateway's throttling is still enforced from the template.
   * The unauthenticated methods' stage throttles are as generous (`LOCAL_THROTTLE`), whatever this says.
   */
  throttle?: { rateLimit: number; burstLimit: number; dailyQuota: number };
  /**
   * The production network guards stay on (https only, public addresses only): for tests that check the
   * deployed bundles refuse what production must refuse. Off by default locally, where the simulator serves
   * outputs over http on loopback and callbacks may go to a dev server on this machine.
   */
  productionNetworkGuards?: boolean;
}

/**
 * A JSON setting checked before the synth (OWNER_LIMITS, PRICES), so a mistake is named at once instead of in a
 * synth's stack trace.
 */
function checkJsonSetting(name: string, value: string, schema: z.ZodMiniType, example: string): void {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new Error(`${name} is not JSON: expected ${example}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new Error(`${name} refused: ${problems.join('; ')}`);
  }
}

export function localContext(options: LocalContextOptions): Record<string, string> {
  const { OWNER_LIMITS, PRICES } = options.env;
  if (OWNER_LIMITS) {
    const example = '{"default":{"maxInFlight":50,"maxPerDay":10000,"maxRefusalsPerMinute":20},"owners":{…}}';
    checkJsonSetting('OWNER_LIMITS', OWNER_LIMITS, OwnerLimitsSetting, example);
  }
  if (PRICES) {
    const example = '{"owner/model":{"perSecondUsd":0.000225},"owner/other":{"perOutputUsd":0.003}}';
    checkJsonSetting('PRICES', PRICES, PriceTableSetting, example);
  }
  const context: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV_TO_CONTEXT)) {
    const value = options.env[name];
    if (value !== undefined && value !== '') context[key] = value;
  }
  context.consumerTimeoutSeconds ??= String(options.consumerTimeoutSeconds);
  // Event streams open at once: each is a Node process here (about 100 MB), so fewer than AWS's default 100.
  context.eventStreamConcurrency ??= String(LOCAL_EVENT_STREAMS);
  // Replicate's longest blocking wait: nothing here times an integration out at 29 s.
  context.maxPreferWaitSeconds ??= String(LONGEST_PREFER_WAIT_SECONDS);
  context.eventQueueVisibilitySeconds = String(options.visibilityTimeoutSeconds ?? context.consumerTimeoutSeconds);
  if (options.maxReceiveCount) context.maxReceiveCount = String(options.maxReceiveCount);
  const throttle = options.throttle ?? LOCAL_THROTTLE;
  context.throttleRateLimit = String(throttle.rateLimit);
  context.throttleBurstLimit = String(throttle.burstLimit);
  context.dailyQuota = String(throttle.dailyQuota);
  // The stage throttles of the methods without a key (webhook, health, openapi.json) are enforced locally too,
  // and a test suite delivers webhooks far faster than Replicate does: generous here, the defaults when deployed.
  for (const prefix of ['webhookThrottle', 'publicThrottle']) {
    context[`${prefix}RateLimit`] = String(LOCAL_THROTTLE.rateLimit);
    context[`${prefix}BurstLimit`] = String(LOCAL_THROTTLE.burstLimit);
  }
  if (!options.productionNetworkGuards) {
    context.allowPlainHttp = 'true';
    context.allowPrivateAddresses = 'true';
  }
  return context;
}

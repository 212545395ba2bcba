import { Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DEFAULTS } from '../contract/defaults';
import { MAX_OUTPUT_FILES_CEILING } from '../lambdas/core/output-limits';
import { OwnerLimitsSetting } from '../lambdas/core/owner-limits';
import { LONGEST_PREFER_WAIT_SECONDS } from '../lambdas/core/prefer-wait';
import { PriceTableSetting } from '../lambdas/core/prices';
import type { AlarmThresholds, ReplicateJobsProps, Throttle } from './replicate-jobs-props';

/**
 * A prop the construct cannot deploy with. aws-cdk-lib's own `ValidationError` is internal (its constructor is
 * not public API), so this one carries the same information: the path of the construct that refused the value.
 */
export class ValidationError extends Error {
  constructor(
    readonly construct: IConstruct,
    message: string,
  ) {
    super(`${construct.node.path}: ${message}`);
    this.name = 'ValidationError';
  }
}

/**
 * Refuses at synth every value AWS would refuse at deploy (or that would deploy a stack that cannot work), so the
 * mistake is named in `cdk synth` instead of half-way through a CloudFormation update. Values that are tokens
 * (known only at deploy) are not checked.
 */
export function validateProps(scope: IConstruct, props: ReplicateJobsProps): void {
  const fail = (message: string): never => {
    throw new ValidationError(scope, message);
  };
  const seconds = (duration: Duration | undefined) =>
    duration === undefined || Token.isUnresolved(duration.toSeconds({ integral: false }))
      ? undefined
      : duration.toSeconds({ integral: false });
  const known = (value: number | undefined): value is number => value !== undefined && !Token.isUnresolved(value);
  const positiveInteger = (name: string, value: number | undefined) => {
    if (known(value) && !(Number.isInteger(value) && value > 0))
      fail(`${name} must be a positive integer, got ${value}`);
  };
  // Finite too: the functions read these back from their environment as numbers, and refuse Infinity.
  const positive = (name: string, value: number | undefined, unit = '') => {
    if (known(value) && !(value > 0 && Number.isFinite(value))) fail(`${name} must be above 0${unit}, got ${value}`);
  };

  const consumerTimeout = seconds(props.consumerTimeout) ?? DEFAULTS.consumerTimeoutSeconds;
  // Lambda runs a function for at most 15 minutes.
  if (consumerTimeout < 1 || consumerTimeout > 900)
    fail(`consumerTimeout must be from 1 s to 15 min, got ${consumerTimeout} s`);
  const visibility = seconds(props.eventQueueVisibilityTimeout);
  // AWS refuses an SQS event source whose queue hides a message for less than the function may run; worse, a
  // message that reappears mid-copy would be copied twice.
  if (visibility !== undefined && visibility < consumerTimeout) {
    fail(`eventQueueVisibilityTimeout (${visibility} s) must be at least consumerTimeout (${consumerTimeout} s)`);
  }
  // SQS's largest visibility timeout is 12 hours.
  if (visibility !== undefined && visibility > 43_200) fail(`eventQueueVisibilityTimeout must be at most 12 hours`);
  // A redrive policy with fewer than 1 receive would dead-letter every message unread; SQS refuses it.
  // SQS takes 1 to 1 000.
  const receives = props.maxReceiveCount;
  if (known(receives) && !(Number.isInteger(receives) && receives >= 1 && receives <= 1000)) {
    fail(`maxReceiveCount must be a whole number from 1 to 1000, got ${receives}`);
  }

  const maxConcurrency = props.consumerMaxConcurrency ?? DEFAULTS.consumerMaxConcurrency;
  // What Lambda accepts as an SQS event source's maximum concurrency.
  if (known(maxConcurrency) && !(Number.isInteger(maxConcurrency) && maxConcurrency >= 2 && maxConcurrency <= 1000)) {
    fail(`consumerMaxConcurrency must be a whole number from 2 to 1000, got ${maxConcurrency}`);
  }
  const reserved = props.consumerReservedConcurrency ?? maxConcurrency;
  // Fewer reserved than the event source may invoke at once: Lambda throttles its pollers, and the messages they
  // return are received again and again until the dead-letter queue.
  if (reserved !== false && known(reserved) && !Number.isInteger(reserved)) {
    fail(`consumerReservedConcurrency must be a whole number, or false, got ${reserved}`);
  }
  if (reserved !== false && known(reserved) && known(maxConcurrency) && reserved < maxConcurrency) {
    fail(
      `consumerReservedConcurrency (${reserved}) must be at least consumerMaxConcurrency (${maxConcurrency}), or false`,
    );
  }

  const streams = props.eventStreamConcurrency;
  if (streams !== undefined && streams !== false && known(streams) && !(Number.isInteger(streams) && streams >= 1)) {
    fail(`eventStreamConcurrency must be a whole number of at least 1, or false, got ${streams}`);
  }

  const wait = props.maxPreferWaitSeconds;
  const longest = LONGEST_PREFER_WAIT_SECONDS;
  if (wait !== undefined && known(wait) && !(Number.isInteger(wait) && wait >= 1 && wait <= longest)) {
    fail(`maxPreferWaitSeconds must be a whole number from 1 to ${longest}, got ${wait}`);
  }

  positiveInteger('reconcileBatchSize', props.reconcileBatchSize);
  positiveInteger('replicateCreatesPerMinute', props.replicateCreatesPerMinute);
  // Shard keys carry two digits (core/shards.ts): they sort, and name, at most 100 shards.
  const shards = props.indexShards;
  if (known(shards) && !(Number.isInteger(shards) && shards >= 1 && shards <= 100)) {
    fail(`indexShards must be an integer from 1 to 100, got ${shards}`);
  }
  const maxOutputFiles = props.maxOutputFiles;
  // More files than the ceiling would not fit the job's item (and its success could never be written).
  if (
    known(maxOutputFiles) &&
    !(Number.isInteger(maxOutputFiles) && maxOutputFiles >= 1 && maxOutputFiles <= MAX_OUTPUT_FILES_CEILING)
  ) {
    fail(`maxOutputFiles (${maxOutputFiles}) must be a whole number from 1 to ${MAX_OUTPUT_FILES_CEILING}`);
  }
  positive('maxOutputBytes', props.maxOutputBytes);
  const maxUpload = props.maxUploadBytes;
  if (known(maxUpload) && !(Number.isInteger(maxUpload) && maxUpload >= 1 && maxUpload <= 5 * 1024 ** 3)) {
    fail(`maxUploadBytes must be a whole number of bytes from 1 to 5 GiB, got ${maxUpload}`);
  }
  // Lifecycle rules count whole days.
  for (const [name, duration] of [
    ['uploadRetention', props.uploadRetention],
    ['outputRetention', props.outputRetention],
  ] as const) {
    const days = duration === undefined ? undefined : duration.toHours() / 24;
    if (known(days) && !(Number.isInteger(days) && days >= 1))
      fail(`${name} must be a whole number of days, at least 1`);
  }
  positive('maxOutputTotalBytes', props.maxOutputTotalBytes);
  positiveInteger('dailyQuota', props.dailyQuota);
  positive('jobTimeout', seconds(props.jobTimeout), ' s');
  positive('reconcileAfter', seconds(props.reconcileAfter), ' s');
  positive('callbackRetryBase', seconds(props.callbackRetryBase), ' s');
  // S3 signs a presigned URL for at most 7 days, and a URL valid for no time is no URL.
  const presign = seconds(props.presignedUrlExpiry);
  if (presign !== undefined && !(presign >= 1 && presign <= 7 * 24 * 3600)) {
    fail(`presignedUrlExpiry must be from 1 s to 7 days, got ${presign} s`);
  }
  // (A negative baseDelay cannot be written: Duration refuses it.)
  positiveInteger('downloadRetry.attempts', props.downloadRetry?.attempts);
  // The functions read the backoff as a positive number of milliseconds: 0 would stop every one of them.
  positive('downloadRetry.baseDelay', seconds(props.downloadRetry?.baseDelay), ' s');
  const wafRate = props.waf?.rateLimitPer5Minutes;
  if (known(wafRate)) checkWafRate(fail, wafRate);
  checkThrottle(fail, 'throttle', props.throttle);
  checkThrottle(fail, 'webhookThrottle', props.webhookThrottle);
  checkThrottle(fail, 'publicThrottle', props.publicThrottle);
  checkThresholds(fail, props.alarmThresholds);
  checkOwnerLimits(fail, props.ownerLimits);
  checkPrices(fail, props.prices);
}

/** Prices are checked by the schema the functions read them with: `owner/name` → one positive price each. */
function checkPrices(fail: (message: string) => never, prices: unknown): void {
  if (prices === undefined) return;
  const parsed = PriceTableSetting.safeParse(prices);
  if (parsed.success) return;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(prices)'}: ${issue.message}`);
  fail(`prices refused: ${problems.join('; ')}`);
}

/** Owner limits are checked by the same schema the functions read them with: whole numbers above 0. */
function checkOwnerLimits(fail: (message: string) => never, ownerLimits: unknown): void {
  if (ownerLimits === undefined) return;
  const parsed = OwnerLimitsSetting.safeParse(ownerLimits);
  if (parsed.success) return;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(limits)'}: ${issue.message}`);
  fail(`ownerLimits refused: ${problems.join('; ')}`);
}

/** What WAF's rate-based rule accepts (the ApiWaf construct checks the same when used on its own). */
export function checkWafRate(fail: (message: string) => never, rateLimitPer5Minutes: number): void {
  const limit = rateLimitPer5Minutes;
  if (!(Number.isInteger(limit) && limit >= 10 && limit <= 2_000_000_000)) {
    fail(`waf.rateLimitPer5Minutes must be a whole number from 10 to 2 000 000 000, got ${limit}`);
  }
}

/** API Gateway takes a rate (requests per second) above 0 and a whole burst of at least 1. */
function checkThrottle(fail: (message: string) => never, prop: string, throttle: Throttle | undefined): void {
  if (!throttle || Token.isUnresolved(throttle.rateLimit) || Token.isUnresolved(throttle.burstLimit)) return;
  if (!(throttle.rateLimit > 0) || !Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1) {
    fail(`${prop} must have a rateLimit above 0 and a whole burstLimit of at least 1`);
  }
}

/** A threshold of 0 or less would keep its alarm firing forever (every alarm fires at or above its threshold). */
function checkThresholds(fail: (message: string) => never, thresholds: AlarmThresholds | undefined): void {
  for (const [name, value] of Object.entries(thresholds ?? {})) {
    const amount = value instanceof Duration ? value.toSeconds({ integral: false }) : (value as number);
    if (!Token.isUnresolved(amount) && !(amount > 0)) fail(`alarmThresholds.${name} must be above 0, got ${amount}`);
    if (name === 'apiServerErrorPercent' && amount > 100) fail(`alarmThresholds.${name} must be at most 100`);
  }
}

import { Duration } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { OwnerLimitsSetting } from '../lambdas/core/owner-limits';
import { PriceTableSetting } from '../lambdas/core/prices';
import type { ReplicateJobsProps } from './replicate-jobs';

/**
 * The construct's props as CDK context (`cdk deploy -c outputHosts=a,b -c publicUrl=https://…`). The local
 * stack synthesizes the same app with these too, so everything it runs is configured by the template.
 */
export function propsFromContext(node: Node): ReplicateJobsProps {
  const text = (key: string): string | undefined => {
    const value = node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const number = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`Context ${key} must be a positive number`);
    return parsed;
  };
  const duration = (key: string, unit: (amount: number) => Duration = Duration.seconds) => {
    const value = number(key);
    return value === undefined ? undefined : unit(value);
  };
  const flag = (key: string): boolean | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw new Error(`Context ${key} must be true or false`);
    return value === 'true';
  };
  const json = (key: string): unknown => {
    const value = text(key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      throw new Error(`Context ${key} must be JSON`);
    }
  };
  const ownerLimits = json('ownerLimits');
  const prices = json('prices');
  const refundFailuresWithoutOutput = flag('refundFailuresWithoutOutput');
  const refundClientCancels = flag('refundClientCancels');
  const downloadAttempts = number('downloadAttempts');
  const downloadRetryBase = duration('downloadRetryBaseMs', Duration.millis);
  // `<prefix>RateLimit` and `<prefix>BurstLimit`, both or neither.
  const throttle = (prefix: string) => {
    const [rateLimit, burstLimit] = [number(`${prefix}RateLimit`), number(`${prefix}BurstLimit`)];
    return rateLimit === undefined || burstLimit === undefined ? undefined : { rateLimit, burstLimit };
  };
  const wafRateLimit = number('wafRateLimitPer5Minutes');
  const allowPlainHttp = flag('allowPlainHttp');
  const allowPrivateAddresses = flag('allowPrivateAddresses');
  return {
    outputHosts: text('outputHosts')
      ?.split(',')
      .map((host) => host.trim())
      .filter(Boolean),
    replicateApiBaseUrl: text('replicateApiBaseUrl'),
    publicUrl: text('publicUrl'),
    consumerTimeout: duration('consumerTimeoutSeconds'),
    consumerMaxConcurrency: number('consumerMaxConcurrency'),
    eventStreamConcurrency: text('eventStreamConcurrency') === 'false' ? false : number('eventStreamConcurrency'),
    consumerReservedConcurrency:
      text('consumerReservedConcurrency') === 'false' ? false : number('consumerReservedConcurrency'),
    eventQueueVisibilityTimeout: duration('eventQueueVisibilitySeconds'),
    maxReceiveCount: number('maxReceiveCount'),
    presignedUrlExpiry: duration('presignedUrlSeconds'),
    maxPreferWaitSeconds: number('maxPreferWaitSeconds'),
    jobTimeout: duration('jobTimeoutSeconds'),
    reconcileInterval: duration('reconcileIntervalSeconds'),
    reconcileAfter: duration('reconcileAfterSeconds'),
    reconcileBatchSize: number('reconcileBatchSize'),
    replicateCreatesPerMinute: number('replicateCreatesPerMinute'),
    indexShards: number('indexShards'),
    maxOutputBytes: number('maxOutputBytes'),
    maxUploadBytes: number('maxUploadBytes'),
    uploadRetention: duration('uploadRetentionDays', Duration.days),
    outputRetention: duration('outputRetentionDays', Duration.days),
    maxOutputFiles: number('maxOutputFiles'),
    maxOutputTotalBytes: number('maxOutputTotalBytes'),
    ownerLimits: ownerLimits === undefined ? undefined : OwnerLimitsSetting.parse(ownerLimits),
    prices: prices === undefined ? undefined : PriceTableSetting.parse(prices),
    dailyCredits:
      refundFailuresWithoutOutput === undefined && refundClientCancels === undefined
        ? undefined
        : { failuresWithoutOutput: refundFailuresWithoutOutput, clientCancels: refundClientCancels },
    downloadRetry:
      downloadAttempts === undefined && downloadRetryBase === undefined
        ? undefined
        : { attempts: downloadAttempts ?? 4, baseDelay: downloadRetryBase ?? Duration.seconds(1) },
    callbackRetryBase: duration('callbackRetryBaseSeconds'),
    throttle: throttle('throttle'),
    webhookThrottle: throttle('webhookThrottle'),
    publicThrottle: throttle('publicThrottle'),
    waf: wafRateLimit === undefined ? undefined : { rateLimitPer5Minutes: wafRateLimit },
    dailyQuota: number('dailyQuota'),
    localNetwork: allowPlainHttp || allowPrivateAddresses ? { allowPlainHttp, allowPrivateAddresses } : undefined,
  };
}

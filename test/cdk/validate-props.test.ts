import { App, Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { ApiWaf } from '../../lib/api-waf';
import type { ReplicateJobsProps } from '../../lib/replicate-jobs';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';
import { ValidationError } from '../../lib/validate-props';

/** Construction alone: validateProps runs before any resource is made, so nothing is synthesized or bundled. */
const build = (jobs: ReplicateJobsProps) =>
  new ReplicateJobsStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', { jobs });

/** Each case names its own message, so removing that one check makes its case fail (nothing else says it). */
const refused: Array<[string, ReplicateJobsProps, RegExp]> = [
  [
    "a consumer timeout over Lambda's 15 minutes",
    { consumerTimeout: Duration.minutes(16) },
    /consumerTimeout must be from 1 s to 15 min/,
  ],
  [
    'a consumer timeout under 1 s',
    { consumerTimeout: Duration.millis(500) },
    /consumerTimeout must be from 1 s to 15 min/,
  ],
  [
    'a visibility timeout shorter than the consumer timeout',
    { consumerTimeout: Duration.seconds(300), eventQueueVisibilityTimeout: Duration.seconds(60) },
    /eventQueueVisibilityTimeout \(60 s\) must be at least consumerTimeout \(300 s\)/,
  ],
  ["a visibility timeout over SQS's 12 hours", { eventQueueVisibilityTimeout: Duration.hours(13) }, /at most 12 hours/],
  ['maxReceiveCount < 1', { maxReceiveCount: 0 }, /maxReceiveCount must be a whole number from 1 to 1000/],
  [
    "maxReceiveCount over SQS's 1000",
    { maxReceiveCount: 1001 },
    /maxReceiveCount must be a whole number from 1 to 1000/,
  ],
  [
    'a Prefer: wait longer than Replicate allows',
    { maxPreferWaitSeconds: 61 },
    /maxPreferWaitSeconds must be a whole number from 1 to 60/,
  ],
  ['no Prefer: wait at all', { maxPreferWaitSeconds: 0 }, /maxPreferWaitSeconds must be a whole number from 1 to 60/],
  [
    'a fractional Prefer: wait',
    { maxPreferWaitSeconds: 2.5 },
    /maxPreferWaitSeconds must be a whole number from 1 to 60/,
  ],
  [
    'no event streams at all',
    { eventStreamConcurrency: 0 },
    /eventStreamConcurrency must be a whole number of at least 1, or false/,
  ],
  [
    'a fractional consumerReservedConcurrency',
    { consumerReservedConcurrency: 10.5 },
    /consumerReservedConcurrency must be a whole number, or false/,
  ],
  [
    "a WAF rate under WAF's 10",
    { waf: { rateLimitPer5Minutes: 5 } },
    /waf.rateLimitPer5Minutes must be a whole number from 10 to 2 000 000 000/,
  ],
  ['a fractional maxReceiveCount', { maxReceiveCount: 1.5 }, /maxReceiveCount must be a whole number from 1 to 1000/],
  [
    "consumerMaxConcurrency under Lambda's 2",
    { consumerMaxConcurrency: 1 },
    /consumerMaxConcurrency must be a whole number from 2 to 1000/,
  ],
  [
    "consumerMaxConcurrency over Lambda's 1000",
    { consumerMaxConcurrency: 1001, consumerReservedConcurrency: false },
    /from 2 to 1000/,
  ],
  [
    'fewer reserved than the event source may invoke',
    { consumerMaxConcurrency: 10, consumerReservedConcurrency: 5 },
    /consumerReservedConcurrency \(5\) must be at least consumerMaxConcurrency \(10\)/,
  ],
  ['a reconcile batch size ≤ 0', { reconcileBatchSize: 0 }, /reconcileBatchSize must be a positive integer/],
  [
    "maxOutputFiles over the item's ceiling",
    { maxOutputFiles: 251 },
    /maxOutputFiles \(251\) must be a whole number from 1 to 250/,
  ],
  ['maxOutputBytes ≤ 0', { maxOutputBytes: 0 }, /maxOutputBytes must be above 0/],
  ['maxOutputTotalBytes ≤ 0', { maxOutputTotalBytes: -1 }, /maxOutputTotalBytes must be above 0/],
  ['a daily quota ≤ 0', { dailyQuota: 0 }, /dailyQuota must be a positive integer/],
  ['a job timeout of 0', { jobTimeout: Duration.seconds(0) }, /jobTimeout must be above 0/],
  ['a reconcile delay of 0', { reconcileAfter: Duration.seconds(0) }, /reconcileAfter must be above 0/],
  ['a callback retry base of 0', { callbackRetryBase: Duration.seconds(0) }, /callbackRetryBase must be above 0/],
  [
    "presigned URLs past S3's 7 days",
    { presignedUrlExpiry: Duration.days(8) },
    /presignedUrlExpiry must be from 1 s to 7 days/,
  ],
  [
    'no download attempt',
    { downloadRetry: { attempts: 0, baseDelay: Duration.seconds(1) } },
    /downloadRetry.attempts must be a positive integer/,
  ],
  ['a usage-plan rate of 0', { throttle: { rateLimit: 0, burstLimit: 1 } }, /throttle must have a rateLimit above 0/],
  [
    'a webhook rate of 0',
    { webhookThrottle: { rateLimit: 0, burstLimit: 10 } },
    /webhookThrottle must have a rateLimit above 0/,
  ],
  [
    'a fractional public burst',
    { publicThrottle: { rateLimit: 1, burstLimit: 0.5 } },
    /publicThrottle must have .* whole burstLimit/,
  ],
  [
    'an alarm threshold of 0',
    { alarmThresholds: { deadLetterMessages: 0 } },
    /alarmThresholds.deadLetterMessages must be above 0/,
  ],
  [
    'an error-rate threshold over 100 %',
    { alarmThresholds: { apiServerErrorPercent: 150 } },
    /alarmThresholds.apiServerErrorPercent must be at most 100/,
  ],
  [
    'an owner limit of 0',
    { ownerLimits: { default: { maxInFlight: 0, maxPerDay: 10 } } },
    /ownerLimits refused: default.maxInFlight: /,
  ],
  [
    "an owner's limit of 0",
    { ownerLimits: { default: { maxInFlight: 5, maxPerDay: 10 }, owners: { key1: { maxPerDay: 0 } } } },
    /ownerLimits refused: owners.key1.maxPerDay: /,
  ],
  ['a price of 0', { prices: { 'a/b': { perSecondUsd: 0 } } }, /prices refused: a\/b.perSecondUsd: /],
  [
    'a price keyed by something other than owner/name',
    { prices: { flux: { perOutputUsd: 0.003 } } },
    /prices refused: flux: /,
  ],
  [
    'a cost budget of 0',
    { ownerLimits: { default: { maxInFlight: 5, maxPerDay: 10, maxCostPerDayUsd: 0 } } },
    /ownerLimits refused: default.maxCostPerDayUsd: /,
  ],
  [
    'a message age threshold of 0',
    { alarmThresholds: { maxMessageAge: Duration.seconds(0) } },
    /alarmThresholds.maxMessageAge/,
  ],
];

describe('validateProps', () => {
  it.each(refused)('refuses %s with a ValidationError naming the construct', (_, props, message) => {
    let error: unknown;
    try {
      build(props);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^Test\/ReplicateJobs: /);
  });

  it('refuses the same WAF rate when ApiWaf is used on its own, naming it', () => {
    // The rate is checked before the stage is used.
    const waf = () => new ApiWaf(new Stack(), 'Waf', { stage: {} as apigateway.Stage, rateLimitPer5Minutes: 5 });
    expect(waf).toThrow(ValidationError);
    expect(waf).toThrow(/^Default\/Waf: waf.rateLimitPer5Minutes must be a whole number from 10 to 2 000 000 000/);
  });

  it('accepts the other edges of every range', () => {
    expect(() =>
      build({
        consumerTimeout: Duration.seconds(1),
        maxReceiveCount: 1000,
        consumerMaxConcurrency: 1000,
        waf: { rateLimitPer5Minutes: 10 },
        alarmThresholds: { apiServerErrorPercent: 100 },
      }),
    ).not.toThrow();
  });

  it('accepts the edges of every range', () => {
    expect(() =>
      build({
        consumerTimeout: Duration.minutes(15),
        eventQueueVisibilityTimeout: Duration.hours(12),
        maxReceiveCount: 1,
        consumerMaxConcurrency: 2,
        maxOutputFiles: 250,
        presignedUrlExpiry: Duration.days(7),
        downloadRetry: { attempts: 1, baseDelay: Duration.millis(1) },
        alarmThresholds: { functionErrors: 1 },
      }),
    ).not.toThrow();
  });
});

import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULTS } from '../../contract/defaults';
import { ENV } from '../../contract/environment';
import { readSettings } from '../../lambdas/runtime/settings';
import type { ReplicateJobsProps } from '../../lib/replicate-jobs';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';
import { ValidationError } from '../../lib/validate-props';

const build = (jobs: ReplicateJobsProps) =>
  new ReplicateJobsStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', { jobs });

/**
 * validateProps promises to refuse at synth what would deploy a stack that cannot work. A prop it lets through must
 * therefore give every function an environment its settings reader (lambdas/runtime/settings.ts) accepts: otherwise
 * every function fails on its first request, after a deploy that succeeded.
 */
const accepted: Array<[string, ReplicateJobsProps]> = [
  ['the defaults (the harness itself)', {}],
  ['a download retry base delay of 0', { downloadRetry: { attempts: 1, baseDelay: Duration.seconds(0) } }],
  ['an unbounded maxOutputBytes', { maxOutputBytes: Number.POSITIVE_INFINITY }],
  ['an unbounded maxOutputTotalBytes', { maxOutputTotalBytes: Number.POSITIVE_INFINITY }],
];

describe('validateProps agrees with the runtime settings', () => {
  it.each(accepted)('%s: refused at synth, or readable by every function', (_, props) => {
    let stack: ReplicateJobsStack;
    try {
      stack = build(props);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return;
    }
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const refusedBy = Object.entries(functions).flatMap(([id, resource]) => {
      const variables: Record<string, unknown> = resource.Properties.Environment?.Variables ?? {};
      // References (table name, queue URLs, secret ARNs, the base URL parameter) resolve at deploy: stand-ins here.
      const plain = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string'
            ? value
            : name === ENV.replicateBaseUrl
              ? DEFAULTS.replicateApiBaseUrl
              : `resolved-${name}`,
        ]),
      );
      try {
        readSettings(plain as Record<string, string>);
        return [];
      } catch (error) {
        return [`${id}: ${(error as Error).message}`];
      }
    });
    expect(refusedBy).toEqual([]);
  });
});

/**
 * README ("refuses impossible props at synth with a ValidationError naming the construct … a limit of 0 or less")
 * and validateProps' own comment ("refuses at synth every value AWS would refuse at deploy"): these get through, or
 * fail with another error that does not name the construct.
 */
const refused: Array<[string, ReplicateJobsProps, RegExp]> = [
  ["maxReceiveCount over SQS's 1000", { maxReceiveCount: 1001 }, /maxReceiveCount/],
  ['a fractional consumerReservedConcurrency', { consumerReservedConcurrency: 10.5 }, /consumerReservedConcurrency/],
  ['an owner limit of 0', { ownerLimits: { default: { maxInFlight: 0, maxPerDay: 100 } } }, /ownerLimits/],
  ["a WAF rate under WAF's 10", { waf: { rateLimitPer5Minutes: 5 } }, /rateLimitPer5Minutes/],
];

describe('validateProps refuses what AWS would refuse', () => {
  it.each(refused)('refuses %s with a ValidationError naming the construct', (_, props, message) => {
    let error: unknown;
    try {
      build(props);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^Test\/ReplicateJobs: /);
    expect((error as Error).message).toMatch(message);
  });
});

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

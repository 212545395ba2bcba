import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ReplicateJobsProps } from '../../lib/replicate-jobs';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';

describe('cdk-nag AwsSolutions', () => {
  /** The findings report (empty when clean), and the rule ids the construct acknowledged. */
  const check = (jobs?: ReplicateJobsProps) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ReplicateJobsStack(app, 'Nag', { jobs });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const acknowledged = JSON.stringify(
      stack.jobs.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY),
    );
    try {
      app.synth();
    } catch (error) {
      return { report: (error as Error).message, acknowledged };
    }
    return { report: '', acknowledged };
  };

  it('reports zero unacknowledged findings (each acknowledgement carries a written reason)', () => {
    const { report, acknowledged } = check();
    expect(report).toBe('');
    expect(acknowledged).toContain('AwsSolutions-APIG3'); // no web ACL by default
  });

  it('stays clean with the waf prop without acknowledging the web ACL check: the web ACL on the stage passes it', () => {
    const { report, acknowledged } = check({ waf: { rateLimitPer5Minutes: 1000 } });
    expect(report).toBe('');
    expect(acknowledged).not.toContain('AwsSolutions-APIG3');
  });
});

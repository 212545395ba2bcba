import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ReplicateJobsStack } from '../../lib/replicate-jobs-stack';

describe('cdk-nag AwsSolutions', () => {
  it('reports zero unacknowledged findings (each acknowledgement carries a written reason)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new ReplicateJobsStack(app, 'Nag');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toBe('');
  });
});

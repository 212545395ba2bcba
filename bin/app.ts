#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ReplicateJobsStack } from '../lib/replicate-jobs-stack';
import { propsFromContext } from '../lib/context-props';

const app = new App();
new ReplicateJobsStack(app, 'ReplicateJobs', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  jobs: propsFromContext(app.node),
});

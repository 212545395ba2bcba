#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { propsFromContext } from '../lib/context-props';
import { ReplicateJobsStack } from '../lib/replicate-jobs-stack';

const app = new App();
new ReplicateJobsStack(app, 'ReplicateJobs', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  jobs: propsFromContext(app.node),
});

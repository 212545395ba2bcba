#!/usr/bin/env node
/** bin/: the CDK app's entry (`cdk synth`): one stack from lib/, its props read from CDK context. Imports lib/ only. */
import { App } from 'aws-cdk-lib';
import { propsFromContext } from '../lib/context-props';
import { ReplicateJobsStack } from '../lib/replicate-jobs-stack';

const app = new App();
new ReplicateJobsStack(app, 'ReplicateJobs', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  jobs: propsFromContext(app.node),
});

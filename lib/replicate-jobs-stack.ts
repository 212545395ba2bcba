import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ReplicateJobs, type ReplicateJobsProps } from './replicate-jobs';

export interface ReplicateJobsStackProps extends StackProps {
  readonly jobs?: ReplicateJobsProps;
}

/** The deployable stack: nothing but the reusable construct. */
export class ReplicateJobsStack extends Stack {
  readonly jobs: ReplicateJobs;
  constructor(scope: Construct, id: string, props: ReplicateJobsStackProps = {}) {
    super(scope, id, props);
    this.jobs = new ReplicateJobs(this, 'ReplicateJobs', props.jobs);
  }
}

import { CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../contract/defaults';
import { ReplicateJobs, type ReplicateJobsProps } from './replicate-jobs';

export interface ReplicateJobsStackProps extends StackProps {
  readonly jobs?: ReplicateJobsProps;
}

/** The deployable stack: the reusable construct, plus the one value that may change at each deploy. */
export class ReplicateJobsStack extends Stack {
  readonly jobs: ReplicateJobs;
  constructor(scope: Construct, id: string, props: ReplicateJobsStackProps = {}) {
    super(scope, id, props);
    // A parameter, not a synth-time value: pointing the stack at another Replicate-compatible API (a staging
    // proxy; locally, the simulator on whatever port it got) needs no new synth.
    const replicateApiBaseUrl = new CfnParameter(this, 'ReplicateApiBaseUrl', {
      type: 'String',
      default: props.jobs?.replicateApiBaseUrl ?? DEFAULTS.replicateApiBaseUrl,
      description: 'Base URL of the Replicate API (or a compatible one)',
      allowedPattern: '^https?://.+',
    });
    this.jobs = new ReplicateJobs(this, 'ReplicateJobs', {
      ...props.jobs,
      replicateApiBaseUrl: replicateApiBaseUrl.valueAsString,
    });
  }
}

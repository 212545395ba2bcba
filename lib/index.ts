/**
 * The construct library: `ReplicateJobs` and the stack deploying it, built from its parts. It may import the
 * contract (contract/), the route table (lambdas/routes.ts) and core's pure modules (metric names, limit
 * schemas); never an adapter or a handler, so the CDK app needs no AWS SDK.
 */
export { ApiWaf, type ApiWafProps } from './api-waf';
export { JobsAlarms, type JobsAlarmsProps } from './jobs-alarms';
export { JobsDashboard, type JobsDashboardProps } from './jobs-dashboard';
export { JobsMetricFactory, type JobsMetricFactoryProps } from './jobs-metric-factory';
export { type AlarmThresholds, ReplicateJobs, type ReplicateJobsProps, type Throttle } from './replicate-jobs';
export { ReplicateJobsStack, type ReplicateJobsStackProps } from './replicate-jobs-stack';
export { ValidationError } from './validate-props';

/**
 * The construct library: `ReplicateJobs` (and the stack deploying it) built from its parts; may import the
 * contract (contract/), the route table (lambdas/routes.ts) and core's pure settings schemas, never a handler.
 */
export { ReplicateJobs, type AlarmThresholds, type ReplicateJobsProps, type Throttle } from './replicate-jobs';
export { ReplicateJobsStack, type ReplicateJobsStackProps } from './replicate-jobs-stack';
export { JobsDashboard, type JobsDashboardProps } from './jobs-dashboard';
export { JobsAlarms, type JobsAlarmsProps } from './jobs-alarms';
export { JobsMetricFactory, type JobsMetricFactoryProps } from './jobs-metric-factory';
export { ValidationError } from './validate-props';
export { ApiWaf, type ApiWafProps } from './api-waf';

export { ReplicateJobs, type ReplicateJobsProps } from './replicate-jobs';
export { ReplicateJobsStack, type ReplicateJobsStackProps } from './replicate-jobs-stack';
export { JobsDashboard, type JobsDashboardProps } from './jobs-dashboard';
export { JobsAlarms, type JobsAlarmsProps } from './jobs-alarms';
export { ApiWaf, type ApiWafProps } from './api-waf';

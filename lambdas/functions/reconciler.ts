import { reconcile } from '../handlers/reconcile';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';

/** Lambda entry point of the scheduled reconciler. */
export const handler = withMetricsFlush(() => reconcile(awsDependencies())());

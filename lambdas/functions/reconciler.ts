import { awsDependencies, withMetricsFlush } from '../runtime/aws';
import { reconcile } from '../use-cases/reconcile';

/** Lambda entry point of the scheduled reconciler. */
export const handler = withMetricsFlush(() => reconcile(awsDependencies()));

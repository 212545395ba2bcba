import { apiFunction } from '../http/api-function';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';

/** Lambda entry points of the API functions; the construct points each function at its export. */
export const submit = withMetricsFlush(apiFunction('submit', awsDependencies));
export const status = withMetricsFlush(apiFunction('status', awsDependencies));
export const webhook = withMetricsFlush(apiFunction('webhook', awsDependencies));

/**
 * lambdas/functions/: the Lambda entry points the construct points at (one file per function). Each wires an
 * adapter (http/, sqs/) or a use case to the AWS dependencies of runtime/; nothing else lives here.
 */
import { apiFunction } from '../http/api-function';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';

/** Lambda entry points of the API functions; the construct points each function at its export. */
export const submit = withMetricsFlush(apiFunction('submit', awsDependencies));
export const status = withMetricsFlush(apiFunction('status', awsDependencies));
export const webhook = withMetricsFlush(apiFunction('webhook', awsDependencies));

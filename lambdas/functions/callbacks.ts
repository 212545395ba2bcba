import type { SQSEvent } from 'aws-lambda';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';
import { deliverCallbacks } from '../sqs/deliver-callbacks';

/** Lambda entry point of the client-callback sender. */
export const handler = withMetricsFlush((event: SQSEvent) => deliverCallbacks(awsDependencies())(event));

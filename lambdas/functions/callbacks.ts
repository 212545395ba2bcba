import type { SQSEvent } from 'aws-lambda';
import { deliverCallbacks } from '../sqs/deliver-callbacks';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';

/** Lambda entry point of the client-callback sender. */
export const handler = withMetricsFlush((event: SQSEvent) => deliverCallbacks(awsDependencies())(event));

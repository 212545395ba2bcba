import type { SQSEvent } from 'aws-lambda';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';
import { consumePredictions } from '../sqs/consume-predictions';

/** Lambda entry point of the queue consumer. */
export const handler = withMetricsFlush((event: SQSEvent) => consumePredictions(awsDependencies())(event));

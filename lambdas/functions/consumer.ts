import type { SQSEvent } from 'aws-lambda';
import { consumePredictions } from '../sqs/consume-predictions';
import { awsDependencies, withMetricsFlush } from '../runtime/aws';

/** Lambda entry point of the queue consumer. */
export const handler = withMetricsFlush((event: SQSEvent) => consumePredictions(awsDependencies())(event));

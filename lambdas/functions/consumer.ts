import type { SQSEvent } from 'aws-lambda';
import { consumePredictions } from '../handlers/consume-predictions';
import { awsDependencies } from '../runtime/aws';

/** Lambda entry point of the queue consumer. */
export const handler = (event: SQSEvent) => consumePredictions(awsDependencies())(event);

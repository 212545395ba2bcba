import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../../adapters/sqs-queue';
import type { AdmissionKick } from '../../core/ports';
import type { AwsContainer } from '../aws';

/** The queues, over one SQS client per container: each function wires the ones it sends to. */
export function queues(container: AwsContainer) {
  const sqs = container.traced(new SQSClient({}));
  const { settings } = container;
  return {
    queue: new SqsQueue(sqs, settings.queueUrl),
    callbacks: new SqsQueue(sqs, settings.callbackQueueUrl),
    callbackDeadLetters: new SqsQueue(sqs, settings.callbackDeadLetterQueueUrl),
    admissionKicks: new SqsQueue<AdmissionKick>(sqs, settings.admissionQueueUrl),
  };
}

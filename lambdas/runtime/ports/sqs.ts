import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../../adapters/sqs-queue';
import type { AdmissionKick } from '../../core/ports';
import type { AwsContainer } from '../aws';
import type { RuntimeSettings } from '../settings';

/** The queues, over one client: each function wires the ones it sends to. */
export function queues(client: SQSClient, settings: RuntimeSettings) {
  return {
    queue: new SqsQueue(client, settings.queueUrl),
    callbacks: new SqsQueue(client, settings.callbackQueueUrl),
    callbackDeadLetters: new SqsQueue(client, settings.callbackDeadLetterQueueUrl),
    admissionKicks: new SqsQueue<AdmissionKick>(client, settings.admissionQueueUrl),
  };
}

/** The same, over a traced client of the function's own. */
export const queuesOf = (container: AwsContainer) => queues(container.traced(new SQSClient({})), container.settings);

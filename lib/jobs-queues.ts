import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface JobsQueuesProps {
  /** How long a received event stays hidden: at least the consumer's timeout (validateProps checks). */
  readonly eventVisibilityTimeout: Duration;
  /** Receives of an event before it goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/** What a consumer of a queue does with it: receive, delete, read its attributes, and back a message off. */
const CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'];

/**
 * The event queue (webhook events for the consumer) and the callback queue (client callbacks for their
 * sender), each with its dead-letter queue, and every grant on them. Created in the `ReplicateJobs` scope so the
 * queues keep their logical IDs (a replaced queue would lose the messages in it).
 */
export class JobsQueues {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly callbackQueue: sqs.Queue;
  readonly callbackDeadLetterQueue: sqs.Queue;
  /** Kicks that wake the admitter (jobs wait for capacity); a kick carries nothing, so a lost one costs a minute. */
  readonly admissionQueue: sqs.Queue;
  readonly admissionDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, props: JobsQueuesProps) {
    const secure = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true };
    this.deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', { retentionPeriod: Duration.days(14), ...secure });
    this.queue = new sqs.Queue(scope, 'EventQueue', {
      visibilityTimeout: props.eventVisibilityTimeout,
      retentionPeriod: Duration.days(4),
      ...secure,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    this.callbackDeadLetterQueue = new sqs.Queue(scope, 'CallbackDeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      ...secure,
    });
    this.callbackQueue = new sqs.Queue(scope, 'CallbackQueue', {
      visibilityTimeout: Duration.minutes(3),
      ...secure,
      // With backoff doubling from 10 s (capped at 15 min), 8 attempts span about an hour and a half.
      deadLetterQueue: { queue: this.callbackDeadLetterQueue, maxReceiveCount: 8 },
    });
    this.admissionDeadLetterQueue = new sqs.Queue(scope, 'AdmissionDeadLetterQueue', {
      retentionPeriod: Duration.days(1),
      ...secure,
    });
    this.admissionQueue = new sqs.Queue(scope, 'AdmissionQueue', {
      // Above the admitter's 90 s timeout; a kick older than an hour is moot (the reconciler kicks every run).
      visibilityTimeout: Duration.seconds(120),
      retentionPeriod: Duration.hours(1),
      ...secure,
      deadLetterQueue: { queue: this.admissionDeadLetterQueue, maxReceiveCount: 3 },
    });
  }

  /** `sqs:SendMessage` on the admission queue: wakes the admitter. */
  grantWakeAdmitter(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, ['sqs:SendMessage'], this.admissionQueue);
  }

  /** The admitter's event source (receive, delete, attributes), and waking a fresh admitter when it runs out of time. */
  grantConsumeAdmissions(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, CONSUME.slice(0, 3), this.admissionQueue).combine(this.grantWakeAdmitter(grantee));
  }

  /** `sqs:SendMessage` on the event queue: a webhook event (or a polled prediction) for the consumer. */
  grantSendEvents(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, ['sqs:SendMessage'], this.queue);
  }

  /** Receive, delete, `GetQueueAttributes` and `ChangeMessageVisibility` on the event queue (its consumer). */
  grantConsumeEvents(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, CONSUME, this.queue);
  }

  /** `sqs:SendMessage` on the callback queue: a job that ended has a callback to deliver. */
  grantSendCallbacks(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, ['sqs:SendMessage'], this.callbackQueue);
  }

  /**
   * The callback sender's rights: receive, delete, `GetQueueAttributes` and `ChangeMessageVisibility` on the
   * callback queue (backoff is a longer visibility), then `sqs:SendMessage` on the callback queue (a callback
   * that must wait is sent again, delayed) and its dead-letter queue (one out of attempts).
   */
  grantConsumeCallbacks(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, CONSUME, this.callbackQueue).combine(
      this.grant(grantee, ['sqs:SendMessage'], this.callbackQueue, this.callbackDeadLetterQueue),
    );
  }

  /**
   * What `npm run dlq` needs to list and redrive both dead-letter queues: `sqs:ReceiveMessage`,
   * `sqs:DeleteMessage` and `sqs:GetQueueAttributes` on each dead-letter queue, and `sqs:SendMessage` on the queue
   * it feeds (the event queue, the callback queue).
   */
  grantRedriveDeadLetters(grantee: iam.IGrantable): iam.Grant {
    return this.grant(
      grantee,
      ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      this.deadLetterQueue,
      this.callbackDeadLetterQueue,
    ).combine(this.grant(grantee, ['sqs:SendMessage'], this.queue, this.callbackQueue));
  }

  private grant(grantee: iam.IGrantable, actions: string[], ...queues: sqs.IQueue[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: queues.map((queue) => queue.queueArn) });
  }
}

import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * Lists and redrives the dead-letter queue:
 *   npm run dlq -- list    --dlq <DeadLetterQueueUrl>
 *   npm run dlq -- redrive --dlq <DeadLetterQueueUrl> --queue <EventQueueUrl> [--max 100]
 * Redriving is safe at any time: the consumer is idempotent, so a message that already took effect changes nothing.
 */
export interface DeadLetter {
  messageId: string;
  receiveCount: number;
  sentAt: string;
  source?: string;
  webhookId?: string;
  predictionId?: string;
  bodyBytes: number;
}

/** Peeks without hiding: messages are received with a zero visibility timeout and stay where they are. */
export async function listDeadLetters(sqs: SQSClient, dlqUrl: string, max = 100): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  for (let round = 0; round < 10 && seen.size < max; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages)
      seen.set(message.MessageId!, describe(message.MessageId!, message.Body ?? '', message.Attributes ?? {}));
  }
  return [...seen.values()].slice(0, max);
}

function describe(messageId: string, body: string, attributes: Record<string, string>): DeadLetter {
  let parsed: { source?: string; webhookId?: string; body?: string } = {};
  let predictionId: string | undefined;
  try {
    parsed = JSON.parse(body);
    predictionId = parsed.body ? JSON.parse(parsed.body).id : undefined;
  } catch {
    // a malformed message: listed with what is known
  }
  return {
    messageId,
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    sentAt: new Date(Number(attributes.SentTimestamp ?? 0)).toISOString(),
    source: parsed.source,
    webhookId: parsed.webhookId,
    predictionId: typeof predictionId === 'string' ? predictionId : undefined,
    bodyBytes: Buffer.byteLength(body),
  };
}

/** Moves up to `max` messages back to the event queue: send first, then delete, so none is ever lost. */
export async function redriveDeadLetters(sqs: SQSClient, dlqUrl: string, queueUrl: string, max = 100): Promise<number> {
  let moved = 0;
  while (moved < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) break;
    for (const message of Messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body ?? '' }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved++;
    }
  }
  return moved;
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { dlq: { type: 'string' }, queue: { type: 'string' }, max: { type: 'string', default: '100' } },
  });
  const command = positionals[0];
  const sqs = new SQSClient({});
  if (command === 'list' && values.dlq) {
    const letters = await listDeadLetters(sqs, values.dlq, Number(values.max));
    process.stdout.write(
      `${letters.map((letter) => JSON.stringify(letter)).join('\n')}\n${letters.length} message(s)\n`,
    );
  } else if (command === 'redrive' && values.dlq && values.queue) {
    process.stdout.write(
      `${await redriveDeadLetters(sqs, values.dlq, values.queue, Number(values.max))} message(s) redriven\n`,
    );
  } else {
    throw new Error('usage: npm run dlq -- list --dlq <url> | redrive --dlq <url> --queue <url> [--max N]');
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

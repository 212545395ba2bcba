process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createHmac, timingSafeEqual } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Log } from '../lambdas/core/log';
import { parseSigningSecrets, signWebhook } from '../lambdas/core/webhook-signature';
import type { ApiEvent } from '../lambdas/http/api-event';
import { startLocalStack } from '../local/stack';
import { operationHandler } from '../test/support/api-handlers';
import { ms, percentile, ratio, table } from './stats';

/**
 * Webhook path: the real handler (verify → receipt → SendMessage) against a floor of a bare HMAC verify +
 * SendMessage to the same local SQS, interleaved in small blocks so both see the same machine noise.
 * `npm run bench:webhook -- 3000`
 */
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

async function main() {
  const count = Number(process.argv[2] ?? 3000);
  // The handler in this process, over the stack's resources and settings (the floor has no Lambda around it either).
  const stack = await startLocalStack({ port: 0, log: quiet, reconcileIntervalSeconds: 0 });
  const { deps, emulators } = stack;
  const key = parseSigningSecrets(stack.webhookSecret)[0];
  const { queueUrl } = emulators.resources;
  const handler = operationHandler('receiveWebhook', deps);
  const body = JSON.stringify({
    id: 'p',
    status: 'succeeded',
    output: ['https://replicate.delivery/a/out-0.png'],
    webhook: 'https://x/webhooks/replicate?job=job_1',
  });

  const event = (i: number): ApiEvent => {
    const id = `msg_${i}_${Math.random().toString(36).slice(2)}`;
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      body,
      isBase64Encoded: false,
      path: '/webhooks/replicate',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(key, id, timestamp, body),
      },
      pathParameters: null,
      queryStringParameters: null,
      requestContext: { domainName: 'x', path: '/webhooks/replicate', stage: 'v1', identity: { apiKeyId: null } },
    };
  };
  const floor = async (e: ApiEvent) => {
    const headers = e.headers as Record<string, string>;
    const expected = createHmac('sha256', key)
      .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${e.body}`)
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(headers['webhook-signature'].slice(3), 'base64')))
      throw new Error('bad signature');
    await emulators.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: e.body! }));
  };
  const ours = async (e: ApiEvent) => {
    if ((await handler(e)).statusCode !== 202) throw new Error('not accepted');
  };

  const modes = { floor, ours } as const;
  const timings: Record<keyof typeof modes, number[]> = { floor: [], ours: [] };
  for (let i = 0; i < 200; i++) for (const run of Object.values(modes)) await run(event(i)); // warm up
  for (let block = 0; block < count / 50; block++) {
    for (const [name, run] of Object.entries(modes)) {
      for (let i = 0; i < 50; i++) {
        const e = event(i);
        const started = process.hrtime.bigint();
        await run(e);
        timings[name as keyof typeof modes].push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
  }
  await stack.stop();
  const p = (name: keyof typeof modes, q: number) => percentile(timings[name], q);
  process.stdout.write(
    `${table(
      ['path', 'requests', 'p50', 'p99', 'p99 / floor p99'],
      [
        [
          'floor: HMAC verify + SendMessage',
          String(timings.floor.length),
          ms(p('floor', 50)),
          ms(p('floor', 99)),
          '1.00×',
        ],
        [
          'ours: verify + receipt (PutItem) + SendMessage',
          String(timings.ours.length),
          ms(p('ours', 50)),
          ms(p('ours', 99)),
          ratio(p('ours', 99), p('floor', 99), '≤ 1.2'),
        ],
      ],
    )}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

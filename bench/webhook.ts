process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { ENV } from '../contract/environment';
import type { Log } from '../lambdas/core/log';
import { parseSigningSecrets, signWebhook } from '../lambdas/core/webhook-signature';
import { startLocalStack } from '../local/stack';
import { floorFunction } from './lambda-bundle';
import { ms, percentile, ratio, table } from './stats';

/**
 * Webhook path, as deployed: the webhook function's bundle from the synthesized assembly on Node.js 24 (the Lambda
 * Runtime Interface Client, its role, the IAM proxy, local SQS) against a floor function started the same way with
 * the same role: a bare HMAC verify (the key read once from Secrets Manager, as ours caches it) + SendMessage.
 * Both invoked directly (the same Runtime API round trip), warm, interleaved in blocks of 50 so both see the same
 * machine noise. `npm run bench:webhook -- 3000`
 */
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

const FLOOR_SOURCE = `
const { createHmac, timingSafeEqual } = require('node:crypto');
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const sqs = new SQSClient({});
let key;
exports.handler = async (event) => {
  key ??= Buffer.from(
    (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.env.${ENV.webhookSecret} })))
      .SecretString.split(',')[0].slice('whsec_'.length),
    'base64',
  );
  const h = event.headers;
  const expected = createHmac('sha256', key).update(h['webhook-id'] + '.' + h['webhook-timestamp'] + '.' + event.body).digest();
  const given = Buffer.from(h['webhook-signature'].slice(3), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(expected, given)) return { statusCode: 401, body: '' };
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.${ENV.queueUrl}, MessageBody: event.body }));
  return { statusCode: 202, body: '{"accepted":true}', node: process.version };
};
`;

async function main() {
  const count = Number(process.argv[2] ?? 3000);
  const stack = await startLocalStack({ port: 0, log: quiet, reconcileIntervalSeconds: 0 });
  try {
    const webhook = stack.model.functions.find((fn) => fn.logicalId.startsWith('ReplicateJobsWebhookFunction'))!;
    const key = parseSigningSecrets(stack.webhookSecret)[0];
    const modes = {
      floor: stack.startFunction(webhook.logicalId, {
        codeDir: await floorFunction(FLOOR_SOURCE),
        handler: 'index.handler',
      }),
      ours: stack.startFunction(webhook.logicalId),
    };
    const body = JSON.stringify({
      id: 'p',
      status: 'succeeded',
      output: ['https://replicate.delivery/a/out-0.png'],
      webhook: 'https://x/webhooks/replicate?job=job_0000000000000000000000000a',
    });
    const event = (i: number) => {
      const id = `msg_${i}_${Math.random().toString(36).slice(2)}`;
      const timestamp = Math.floor(Date.now() / 1000);
      return {
        resource: '/webhooks/replicate',
        httpMethod: 'POST',
        path: '/webhooks/replicate',
        body,
        isBase64Encoded: false,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(key, id, timestamp, body),
        },
        pathParameters: null,
        queryStringParameters: null,
        requestContext: { domainName: 'x', path: '/webhooks/replicate', stage: 'v1', identity: { apiKeyId: null } },
      };
    };
    const timings: Record<keyof typeof modes, number[]> = { floor: [], ours: [] };
    let nodeVersion = '(unknown)';
    const once = async (name: keyof typeof modes, i: number) => {
      const e = event(i);
      const started = performance.now();
      const response = (await modes[name].invoke(e)) as { statusCode: number; node?: string };
      nodeVersion = response.node ?? nodeVersion;
      const elapsed = performance.now() - started;
      if (response.statusCode !== 202) throw new Error(`${name} answered ${response.statusCode}`);
      return elapsed;
    };
    for (let i = 0; i < 200; i++) for (const name of ['floor', 'ours'] as const) await once(name, i); // warm up
    for (let block = 0; block < count / 50; block++)
      for (const name of ['floor', 'ours'] as const)
        for (let i = 0; i < 50; i++) timings[name].push(await once(name, i));
    const p = (name: keyof typeof modes, q: number) => percentile(timings[name], q);
    process.stdout.write(`Functions on Node.js ${nodeVersion}, warm, ${count} requests each\n\n`);
    process.stdout.write(
      `${table(
        ['path (the deployed bundle, warm)', 'requests', 'p50', 'p99', 'p99 / floor p99'],
        [
          [
            'floor: HMAC verify + SendMessage',
            String(timings.floor.length),
            ms(p('floor', 50)),
            ms(p('floor', 99)),
            '1.00×',
          ],
          [
            'ours: the webhook function (verify + SendMessage)',
            String(timings.ours.length),
            ms(p('ours', 50)),
            ms(p('ours', 99)),
            ratio(p('ours', 99), p('floor', 99), '≤ 1.2'),
          ],
        ],
      )}\n`,
    );
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

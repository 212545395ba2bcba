process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../contract/environment';
import type { Log } from '../lambdas/core/log';
import { parseSigningSecrets, signWebhook } from '../lambdas/core/webhook-signature';
import { startLocalStack } from '../local/stack';
import { sqsRecord } from '../test/support/sqs-record';
import { bundleAsDeployed, floorFunction } from './lambda-bundle';
import { percentile, ratio, table } from './stats';

/**
 * Cold start of what `cdk deploy` ships: each function's bundle from the synthesized cloud assembly, run as the
 * local stack runs it (its own Node.js 24 process, the Lambda Runtime Interface Client, its role's credentials,
 * every AWS call through the IAM proxy to the emulators), against a floor: a bundle built the same way that holds
 * only the AWS SDK clients the function's own bundle holds (read from its esbuild metafile), started the same way.
 * Init is Lambda's Init Duration (process start to the runtime's first poll: handler module loaded); the first
 * invocation is the rest of the cold request: ours does its real work on a small event, the floor makes its clients
 * and calls each once (both make their clients on the first invocation). A third start, same run, loads the same
 * entry point with the SDK left to the runtime (NodejsFunction's default), for the choice in bench/README.md
 * ("How the SDK ships"). Median of `runs` cold starts each, the three alternating. `npm run bench:cold -- 9`
 */
const ROOT = join(__dirname, '..');
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** What a floor does with each SDK package a function's bundle holds: load it, make its client, call once. */
const FLOOR_USES: Record<string, { load: string; make?: string; call: string }> = {
  '@aws-sdk/client-dynamodb': {
    load: "const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');",
    make: 'const ddb = new DynamoDBClient({});',
    call: `ddb.send(new GetItemCommand({ TableName: process.env.${ENV.tableName}, Key: { id: { S: 'floor' } } }))`,
  },
  '@aws-sdk/lib-dynamodb': {
    load: "const { DynamoDBDocumentClient, GetCommand } = require('@aws-sdk/lib-dynamodb');",
    make: 'const documents = DynamoDBDocumentClient.from(ddb);',
    call: `documents.send(new GetCommand({ TableName: process.env.${ENV.tableName}, Key: { id: 'floor' } }))`,
  },
  '@aws-sdk/client-s3': {
    load: "const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');",
    make: 'const s3 = new S3Client({});',
    call: `s3.send(new GetObjectCommand({ Bucket: process.env.${ENV.bucketName}, Key: 'outputs/floor' }))`,
  },
  '@aws-sdk/s3-request-presigner': {
    load: "const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');",
    call: `getSignedUrl(s3, new GetObjectCommand({ Bucket: process.env.${ENV.bucketName}, Key: 'outputs/floor' }))`,
  },
  '@aws-sdk/lib-storage': {
    load: "const { Upload } = require('@aws-sdk/lib-storage');",
    call: `new Upload({ client: s3, params: { Bucket: process.env.${ENV.bucketName}, Key: 'outputs/floor', Body: 'x' } }).done()`,
  },
  '@aws-sdk/client-sqs': {
    load: "const { SQSClient, GetQueueAttributesCommand } = require('@aws-sdk/client-sqs');",
    make: 'const sqs = new SQSClient({});',
    call: `sqs.send(new GetQueueAttributesCommand({ QueueUrl: process.env.${ENV.queueUrl}, AttributeNames: ['All'] }))`,
  },
  '@aws-sdk/client-secrets-manager': {
    load: "const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');",
    make: 'const secrets = new SecretsManagerClient({});',
    call: `secrets.send(new GetSecretValueCommand({ SecretId: process.env.${ENV.webhookSecret} }))`,
  },
};

/** The bundle's esbuild metafile output, which CDK writes beside it. */
function metafileOf(codeDir: string) {
  const meta = JSON.parse(readFileSync(join(codeDir, 'index.meta.json'), 'utf8'));
  return Object.values(
    meta.outputs as Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>,
  ).find((each) => each.entryPoint)!;
}

/** The SDK packages a bundle holds. */
function sdkPackagesOf(codeDir: string): string[] {
  const output = metafileOf(codeDir);
  const packages = new Set<string>();
  for (const [file, input] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file)?.[1];
    if (pkg && input.bytesInOutput > 0 && pkg in FLOOR_USES) packages.add(pkg);
  }
  return Object.keys(FLOOR_USES).filter((pkg) => packages.has(pkg)); // in load order (lib-dynamodb after the client)
}

/** The floor bundle: the same esbuild settings as the construct's (lib/jobs-functions.ts), the SDK bundled. */
function floorBundle(dir: string, packages: string[]): Promise<string> {
  const uses = packages.map((pkg) => FLOOR_USES[pkg]);
  const source = `${uses.map((use) => use.load).join('\n')}
// Clients are made on the first invocation, as our functions make theirs (runtime/aws.ts).
exports.handler = async () => {
  ${uses.flatMap((use) => (use.make ? [use.make] : [])).join('\n  ')}
  await Promise.all([${uses.map((use) => `(${use.call}).catch(() => undefined)`).join(', ')}]);
  return { ok: true, node: process.version };
};
`;
  return floorFunction(source, dir);
}

/**
 * The other way the SDK can ship: the same entry point bundled with `@aws-sdk/*` and `@smithy/*` left out, as
 * NodejsFunction does by default, loaded from the runtime's copy (the local runtime links this repository's, as
 * Lambda's /var/runtime/node_modules holds its own).
 */
function runtimeSdkBundle(dir: string, entryPoint: string): Promise<string> {
  return bundleAsDeployed(join(ROOT, entryPoint), dir, ['@aws-sdk/*', '@smithy/*']);
}

async function main() {
  const runs = Number(process.argv[2] ?? 7);
  const stack = await startLocalStack({
    port: 0,
    log: quiet,
    reconcileIntervalSeconds: 0,
    simulatorStepMs: 0,
    apiKeys: 'bench=bench-key',
  });
  try {
    const key = parseSigningSecrets(stack.webhookSecret)[0];
    const events = sampleEvents(key);
    const scratch = mkdtempSync(join(tmpdir(), 'cold-start-'));
    const rows: string[][] = [];
    let nodeVersion = '(unknown)';
    for (const fn of stack.model.functions) {
      const name = fn.logicalId.replace(/^ReplicateJobs/, '').replace(/Function[0-9A-F]{8}$/, '');
      const event = events[name as keyof typeof events];
      if (!event) throw new Error(`No sample event for ${name}`);
      const packages = sdkPackagesOf(fn.codeDir);
      const code = {
        ours: undefined,
        floor: { codeDir: await floorBundle(join(scratch, name), packages), handler: 'index.handler' },
        runtimeSdk: {
          codeDir: await runtimeSdkBundle(join(scratch, `${name}-runtime-sdk`), metafileOf(fn.codeDir).entryPoint!),
          handler: 'index.handler',
        },
      };
      const floorDir = code.floor.codeDir;
      const samples = {
        ours: { init: [] as number[], first: [] as number[] },
        floor: { init: [] as number[], first: [] as number[] },
        runtimeSdk: { init: [] as number[], first: [] as number[] },
      };
      for (let run = 0; run < runs; run++) {
        for (const mode of ['ours', 'floor', 'runtimeSdk'] as const) {
          const started = stack.startFunction(fn.logicalId, code[mode]);
          const t0 = performance.now();
          const answer = await started.invoke(event).catch(() => undefined); // an error answer is a cold request too
          if (mode === 'floor') nodeVersion = (answer as { node?: string } | undefined)?.node ?? nodeVersion;
          const total = performance.now() - t0;
          const init = started.initDurationsMs[0];
          samples[mode].init.push(init);
          samples[mode].first.push(total - init);
          await started.stop();
        }
      }
      const median = (values: number[]) => percentile(values, 50);
      const size = (file: string) => statSync(file).size;
      rows.push([
        name,
        packages.map((pkg) => pkg.replace('@aws-sdk/', '')).join(', '),
        `${(size(join(fn.codeDir, 'index.js')) / 1024).toFixed(0)} / ${(size(join(floorDir, 'index.js')) / 1024).toFixed(0)} KiB`,
        `${median(samples.ours.init).toFixed(0)} ms`,
        `${median(samples.floor.init).toFixed(0)} ms`,
        ratio(median(samples.ours.init), median(samples.floor.init), '≤ 1.2'),
        `${median(samples.ours.first).toFixed(0)} / ${median(samples.floor.first).toFixed(0)} ms`,
        `${median(samples.runtimeSdk.init).toFixed(0)} ms (${(median(samples.runtimeSdk.init) / median(samples.ours.init)).toFixed(2)}× bundled)`,
      ]);
    }
    process.stdout.write(
      `Functions on Node.js ${nodeVersion} (the template says ${stack.model.functions[0].runtime}), the bundles of the synthesized assembly, median of ${runs} cold starts each. First invocation: ours does its real work on a small event, the floor makes its clients and calls each once (not the same work: no target).\n\n`,
    );
    process.stdout.write(
      `${table(
        [
          'function',
          'SDK packages it bundles (the floor loads these only)',
          'bundle / floor bundle',
          'init',
          'floor init',
          'init / floor',
          'first invocation: ours / floor',
          "init with the runtime's SDK instead (not bundled)",
        ],
        rows,
      )}\n`,
    );
  } finally {
    await stack.stop();
  }
}

/** A small real event per function, as API Gateway, SQS and EventBridge would send it. */
function sampleEvents(signingKey: Buffer) {
  const missingJob = 'job_0000000000000000000000000a';
  const api = (method: string, resource: string, path: string, body: string | null, headers = {}) => ({
    resource,
    path,
    httpMethod: method,
    body,
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json', ...headers },
    pathParameters: resource.includes('{id}') ? { id: path.split('/').pop() } : null,
    queryStringParameters: null,
    requestContext: { domainName: 'bench.local', path, stage: 'v1', identity: { apiKeyId: 'bench' } },
  });
  const prediction = JSON.stringify({
    id: 'pred_bench',
    status: 'succeeded',
    output: 'done',
    webhook: `https://bench.local/webhooks/replicate?job=${missingJob}`,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const sqs = (body: string) => ({ Records: [sqsRecord('bench', body)] });
  return {
    Submit: api('POST', '/jobs', '/jobs', JSON.stringify({ model: 'bench/model', input: { prompt: 'x' } })),
    Status: api('GET', '/jobs/{id}', `/jobs/${missingJob}`, null),
    Webhook: api('POST', '/webhooks/replicate', '/webhooks/replicate', prediction, {
      'webhook-id': 'msg_bench',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(signingKey, 'msg_bench', timestamp, prediction),
    }),
    Consumer: sqs(JSON.stringify({ source: 'webhook', receivedAt: new Date().toISOString(), body: prediction })),
    Reconciler: { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
    Callback: sqs(JSON.stringify({ jobId: missingJob })),
    Admitter: sqs(JSON.stringify({ reason: 'backlog' })),
  };
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

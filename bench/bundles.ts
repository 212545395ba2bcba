import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { percentile, ratio, table } from './stats';

/**
 * Cold start: each function's bundle (esbuild, minified, everything bundled including the AWS SDK, as a
 * self-contained deployment would be) against a floor bundle holding only the AWS SDK clients that function
 * needs; and the time to `require` each in a fresh Node process (median of 7). `npm run bench:bundles`
 */
const ROOT = join(__dirname, '..');
const FUNCTIONS: Array<{ name: string; entry: string; sdk: string[] }> = [
  {
    name: 'api (submit, status, webhook)',
    entry: 'lambdas/functions/api.ts',
    sdk: [
      'client-dynamodb',
      'lib-dynamodb',
      'client-s3',
      's3-request-presigner',
      'client-sqs',
      'client-secrets-manager',
    ],
  },
  {
    name: 'consumer',
    entry: 'lambdas/functions/consumer.ts',
    sdk: ['client-dynamodb', 'lib-dynamodb', 'client-s3', 'lib-storage', 'client-sqs'],
  },
  {
    name: 'reconciler',
    entry: 'lambdas/functions/reconciler.ts',
    sdk: ['client-dynamodb', 'lib-dynamodb', 'client-s3', 'client-sqs', 'client-secrets-manager'],
  },
];

/** A floor entry that really uses each client, so tree-shaking cannot drop it. */
function floorSource(sdk: string[]): string {
  const uses: Record<string, string> = {
    'client-dynamodb':
      "const { DynamoDBClient } = require('@aws-sdk/client-dynamodb'); const ddb = new DynamoDBClient({});",
    'lib-dynamodb':
      "const { DynamoDBDocumentClient, UpdateCommand } = require('@aws-sdk/lib-dynamodb'); exports.d = [DynamoDBDocumentClient.from(ddb), UpdateCommand];",
    'client-s3':
      "const { S3Client, GetObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3'); const s3 = new S3Client({}); exports.s = [GetObjectCommand, PutObjectCommand];",
    's3-request-presigner': "exports.p = require('@aws-sdk/s3-request-presigner').getSignedUrl;",
    'lib-storage': "exports.u = require('@aws-sdk/lib-storage').Upload;",
    'client-sqs':
      "const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs'); exports.q = [new SQSClient({}), SendMessageCommand];",
    'client-secrets-manager':
      "const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager'); exports.m = [new SecretsManagerClient({}), GetSecretValueCommand];",
  };
  return `${sdk.map((name) => uses[name]).join('\n')}\nexports.handler = async () => ({ ok: true });\n`;
}

async function bundle(entry: string, outfile: string) {
  // nodePaths: the floor entries live in a temporary folder but resolve packages from this project.
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  return statSync(outfile).size;
}

function requireTime(file: string): number {
  const samples = Array.from({ length: 7 }, () =>
    Number(
      execFileSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1' },
        },
      ).trim(),
    ),
  );
  return percentile(samples, 50);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bundles-'));
  const rows: string[][] = [];
  for (const fn of FUNCTIONS) {
    const floorEntry = join(dir, `${fn.name.split(' ')[0]}-floor.js`);
    writeFileSync(floorEntry, floorSource(fn.sdk));
    const ours = join(dir, `${fn.name.split(' ')[0]}.js`);
    const floor = join(dir, `${fn.name.split(' ')[0]}-floor.out.js`);
    const oursSize = await bundle(join(ROOT, fn.entry), ours);
    const floorSize = await bundle(floorEntry, floor);
    const oursMs = requireTime(ours);
    const floorMs = requireTime(floor);
    rows.push([
      fn.name,
      `${(oursSize / 1024).toFixed(0)} KiB`,
      `${(floorSize / 1024).toFixed(0)} KiB`,
      ratio(oursSize, floorSize, '≤ 1.5'),
      `${oursMs.toFixed(0)} ms (target ≤ 150)`,
      `${floorMs.toFixed(0)} ms`,
    ]);
  }
  process.stdout.write(
    `${table(['function', 'bundle', 'floor bundle (its SDK clients only)', 'size ratio', 'require', 'floor require'], rows)}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

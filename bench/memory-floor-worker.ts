import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * The floor of `consumer-memory.ts`: a bare process copying every URL at once, each by `fetch` piped into
 * lib-storage's `Upload` with its defaults (5 MiB parts, 4 in flight). Bundled by the benchmark (the AWS SDK left
 * out, as in the consumer's bundle) and run on Node 24 with the consumer's heap flags. Arguments: S3 endpoint,
 * bucket, URLs; credentials from the environment. Prints one JSON line: the peak RSS as the kernel counts it
 * (VmHWM) and what the heap and buffers held at the highest sampled RSS.
 */
const status = () => {
  const fields = new Map<string, number>();
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (match) fields.set(match[1], Number(match[2]) * 1024);
  }
  return fields;
};

async function main() {
  const [endpoint, bucket, ...urls] = process.argv.slice(2);
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
  const baseRss = status().get('VmRSS')!;
  let peak = { ...process.memoryUsage(), rss: baseRss };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > peak.rss) peak = { ...usage };
  }, 50);
  const started = process.hrtime.bigint();
  const sizes = await Promise.all(
    urls.map(async (url, index) => {
      const response = await fetch(url);
      if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
      await new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: `bench/floor-${index}`,
          Body: Readable.fromWeb(response.body as unknown as WebReadableStream),
        },
      }).done();
      return Number(response.headers.get('content-length'));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  const mib = (bytes: number) => bytes / 1024 ** 2;
  s3.destroy();
  process.stdout.write(
    `${JSON.stringify({
      node: process.version,
      bytes: sizes.reduce((a, b) => a + b, 0),
      seconds,
      peakRssMiB: mib(status().get('VmHWM')!),
      baseRssMiB: mib(baseRss),
      atPeakSample: {
        rssMiB: mib(peak.rss),
        heapTotalMiB: mib(peak.heapTotal),
        heapUsedMiB: mib(peak.heapUsed),
        externalMiB: mib(peak.external),
        arrayBuffersMiB: mib(peak.arrayBuffers),
      },
    })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

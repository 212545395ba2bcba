import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { HttpOutputSource } from '../lambdas/adapters/http-output-source';
import { multipartUpload } from '../lambdas/adapters/s3-multipart-upload';
import { S3ObjectStore } from '../lambdas/adapters/s3-object-store';
import { HostAllowlist } from '../lambdas/core/host-allowlist';

/**
 * One measured copy, in a fresh process so its peak RSS is its own: `floor` pipes fetch straight into
 * lib-storage's Upload; `ours` goes through the consumer's adapters (allowlist, byte limit, counting).
 * Prints one JSON line.
 */
async function main() {
  const [mode, url, endpoint, bucket] = process.argv.slice(2);
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  let bytes = 0;
  if (mode === 'floor') {
    const response = await fetch(url);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: `bench/floor-${Date.now()}`,
        Body: Readable.fromWeb(response.body as unknown as WebReadableStream),
      },
    });
    await upload.done();
    bytes = Number(response.headers.get('content-length'));
  } else {
    // The local server is on loopback, which the AWS configuration refuses: allow it here, as the local stack does.
    const source = new HttpOutputSource({
      allowlist: new HostAllowlist([new URL(url).host], true),
      blockPrivateAddresses: false,
      maxBytes: 8 * 1024 ** 3,
      timeoutMs: 600_000,
    });
    const opened = await source.open(url);
    ({ size: bytes } = await new S3ObjectStore(s3, bucket, { multipartUpload }).upload(
      `bench/ours-${Date.now()}`,
      opened.body,
      'application/octet-stream',
    ));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  s3.destroy();
  process.stdout.write(
    `${JSON.stringify({ mode, node: process.version, bytes, seconds, mibPerSecond: bytes / 1024 ** 2 / seconds, peakRssMiB: peakRss / 1024 ** 2, baseRssMiB: baseRss / 1024 ** 2 })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

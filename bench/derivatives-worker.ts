import { readFileSync } from 'node:fs';
import Vips from 'wasm-vips';
import { WasmVipsImages } from '../lambdas/adapters/wasm-vips-images';
import type { DerivativeSpec } from '../lambdas/core/derivatives';

/** One figure of /proc/self/status, in MiB (VmRSS now, VmHWM the peak so far). */
function statusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1]) / 1024;
}

/**
 * One measured source, in a fresh process so its peak RSS is its own. `ours` derives with the adapter
 * (WasmVipsImages, the given spec and libvips concurrency); `decode` is the floor: the same wasm-vips, started the
 * same way, decoding every pixel of the source at full size and nothing else (`avg()` of a sequential load).
 * Both first run once on a 64 × 64 image (wasm-vips started, its threads and code warm), then `runs` times on the
 * source. Prints one JSON line.
 */
async function main() {
  const [mode, file, tinyFile, specJson, concurrencyArg, runsArg] = process.argv.slice(2);
  const spec = JSON.parse(specJson) as DerivativeSpec;
  const concurrency = Number(concurrencyArg);
  const runs = Number(runsArg);
  const source = readFileSync(file);
  let once: () => Promise<{ width: number; height: number }>;
  let warm: () => Promise<unknown>;
  if (mode === 'ours') {
    const deriver = new WasmVipsImages({ concurrency });
    once = () => deriver.derive(source, spec);
    const tiny = readFileSync(tinyFile);
    warm = () => deriver.derive(tiny, spec);
  } else {
    const vips = await Vips({
      dynamicLibraries: ['vips-heif.wasm'],
      preRun: [(module: { ENV: Record<string, string> }) => (module.ENV.VIPS_WARNING = '0')],
    });
    vips.concurrency(concurrency);
    vips.Cache.max(0);
    const decode = async (bytes: Buffer) => {
      const image = vips.Image.newFromBuffer(bytes, '', { access: 'sequential' });
      try {
        image.avg();
        return { width: image.width, height: image.height };
      } finally {
        image.delete();
      }
    };
    once = () => decode(source);
    const tiny = readFileSync(tinyFile);
    warm = () => decode(tiny);
  }
  await warm();
  const restMiB = statusMiB('VmRSS');
  const ms: number[] = [];
  let size = { width: 0, height: 0 };
  let peakFirstMiB = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    size = await once();
    ms.push(performance.now() - started);
    if (run === 0) peakFirstMiB = statusMiB('VmHWM');
  }
  process.stdout.write(
    JSON.stringify({
      node: process.version,
      ms,
      restMiB,
      peakFirstMiB,
      peakMiB: statusMiB('VmHWM'),
      width: size.width,
      height: size.height,
    }) + '\n',
  );
  process.exit(0);
}

main().catch((error) => {
  process.stdout.write(
    JSON.stringify({
      error:
        error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error),
    }) + '\n',
  );
  process.exit(0);
});

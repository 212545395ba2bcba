import {
  DERIVATIVE_CONTENT_TYPES,
  type DerivativeErrorCode,
  DerivativeFailure,
  type DerivativeFormat,
  type DerivativeSpec,
  type EncodedImage,
  MAX_DERIVATIVE_PIXELS,
  MAX_DERIVATIVE_SOURCE_BYTES,
} from '../core/derivatives';
import type { ImageDeriver } from '../core/ports';

type Vips = Awaited<ReturnType<typeof import('wasm-vips')>>;
type VipsImage = InstanceType<Vips['Image']>;

/**
 * The side modules loaded at start: AVIF (libheif) only. Without this list wasm-vips loads its default, JPEG XL and
 * AVIF; SVG (resvg) is never loaded. Every file wasm-vips reads at run time is named here and in
 * WASM_VIPS_RUNTIME_FILES, the list lib/wasm-vips-asset.ts copies into the function's asset.
 */
export const WASM_VIPS_SIDE_MODULES = ['vips-heif.wasm'];
/**
 * The package's files a running process reads, relative to the package root: package.json (its `exports` resolve
 * `require('wasm-vips')`), the Node build (which also starts libvips' threads as workers of this same file, by its
 * own `__filename`: it must stay a file of its own, never bundled), the main module and the side modules. They are
 * found beside the Node build (emscripten's default `locateFile`).
 */
export const WASM_VIPS_RUNTIME_FILES = [
  'package.json',
  'lib/vips-node.js',
  'lib/vips.wasm',
  ...WASM_VIPS_SIDE_MODULES.map((name) => `lib/${name}`),
];

/**
 * The loaders allowed, by libvips class: those of DERIVABLE_CONTENT_TYPES (PNG, JPEG, WebP, GIF, AVIF, TIFF). Every
 * other loader is blocked: bytes that only a rarely used parser reads (PPM, Radiance, Analyze, matrix...) are
 * `not_an_image`, not an attack surface.
 */
const ALLOWED_LOADERS = [
  'VipsForeignLoadPng',
  'VipsForeignLoadJpeg',
  'VipsForeignLoadWebp',
  'VipsForeignLoadNsgif',
  'VipsForeignLoadHeif',
  'VipsForeignLoadTiff',
];

/** libvips' largest coordinate: the box's side when the spec leaves it unbounded. */
const UNBOUNDED = 10_000_000;

export interface WasmVipsImagesOptions {
  /**
   * libvips' worker threads per image (each one a Node worker thread running the wasm module). Default 1: on 2
   * cores a second thread made a derive no faster (bench/README.md, "Image derivatives"), and the consumer's
   * Lambda at 1024 MB has about 0.6 of a vCPU; a second thread costs 30–60 MiB besides.
   */
  concurrency?: number;
}

/**
 * Image derivatives with wasm-vips (libvips compiled to WebAssembly: the same code on the arm64 Lambda and here, no
 * native build). One libvips per process, started at the first derive (~0.3–0.5 s) and reused; a start that failed
 * is tried again at the next derive. Derives run one at a time, so the process holds at most one image's pixels.
 *
 * The source is read through a custom source over the caller's Buffer, not copied whole into the wasm heap: PNG,
 * JPEG, TIFF and GIF decoders stream from it, so a 40 MP JPEG or PNG costs its strips, not its size twice over.
 * WebP and AVIF are decoded whole (a 40 MP WebP: ~350 MiB over a process at rest). The wasm heap never shrinks:
 * what one derive needed stays resident in the process. A warm process is ~220 MiB (bench/derivatives.ts).
 *
 * libvips work is synchronous: a derive blocks the event loop for its duration (~0.3–2 s on 2 cores; an AVIF
 * takes longer, even at the low effort used here).
 */
export class WasmVipsImages implements ImageDeriver {
  private vips?: Promise<Vips>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly concurrency: number;

  constructor(options: WasmVipsImagesOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
  }

  derive(source: Buffer, spec: DerivativeSpec): Promise<EncodedImage> {
    if (source.length > MAX_DERIVATIVE_SOURCE_BYTES) {
      return Promise.reject(
        new DerivativeFailure(
          'source_too_large',
          `the image is ${source.length} bytes, more than ${MAX_DERIVATIVE_SOURCE_BYTES} are not decoded`,
        ),
      );
    }
    const run = this.queue.then(() => this.deriveNow(source, spec));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deriveNow(source: Buffer, spec: DerivativeSpec): Promise<EncodedImage> {
    const vips = await this.started();
    const handles: Array<{ delete(): void }> = [];
    const keep = <T extends { delete(): void }>(handle: T): T => {
      handles.push(handle);
      return handle;
    };
    try {
      const input = keep(sourceOver(vips, source));
      let header: VipsImage;
      try {
        header = keep(vips.Image.newFromSource(input));
      } catch (error) {
        throw this.failure('not_an_image', 'the bytes are not an image libvips reads here', error);
      }
      // The header only: no pixel is decoded before this check (a 1 KB PNG can claim 50 000 × 50 000).
      const pixels = header.width * header.height;
      if (pixels > MAX_DERIVATIVE_PIXELS) {
        throw new DerivativeFailure(
          'too_many_pixels',
          `the image is ${header.width} × ${header.height} (${pixels} pixels), more than ${MAX_DERIVATIVE_PIXELS} are not decoded`,
        );
      }
      try {
        // thumbnail: shrink-on-load where the format has it (JPEG), autorotation by the EXIF orientation,
        // the first page or frame only, never larger than the source (`size: 'down'`). An embedded ICC profile
        // is applied and the pixels converted to sRGB, since the profile is stripped on save (`keep: 'none'`).
        const image = keep(
          vips.Image.thumbnailSource(input, spec.maxWidth ?? UNBOUNDED, {
            height: spec.maxHeight ?? UNBOUNDED,
            size: 'down',
            output_profile: 'srgb',
            // A truncated PNG or JPEG fails instead of becoming a derivative half grey (libvips' default is to
            // fill in what is missing). The `fail_on` argument of thumbnail does not reach the loader in 8.18;
            // the loader's option string does.
            option_string: 'fail_on=truncated',
          }),
        );
        const bytes = Buffer.from(image.writeToBuffer(`.${SUFFIXES[spec.format]}`, saveOptions(spec)));
        return {
          bytes,
          width: image.width,
          height: image.height,
          contentType: DERIVATIVE_CONTENT_TYPES[spec.format],
        };
      } catch (error) {
        // Pixels are decoded while the derivative is written: a decoder's error then is the image's, not ours.
        if (isDecodeError(error)) throw this.failure('not_an_image', 'the image does not decode', error);
        throw this.failure('derivative_failed', `the ${spec.format} derivative failed`, error);
      }
    } catch (error) {
      const cause = error instanceof DerivativeFailure ? error.cause : error;
      // Not a libvips error but a wasm abort (out of memory, a trap): that runtime cannot be used again, the next
      // derive starts another (this one's memory is not given back; its process is likely to be replaced anyway).
      if (cause !== undefined && !isVipsError(cause)) this.vips = undefined;
      throw error instanceof DerivativeFailure ? error : this.failure('derivative_failed', 'libvips failed', error);
    } finally {
      for (const handle of handles.reverse()) handle.delete();
    }
  }

  private started(): Promise<Vips> {
    if (!this.vips) {
      const starting = startVips(this.concurrency);
      this.vips = starting;
      // A start that failed is retried at the next derive, not cached.
      starting.catch(() => {
        if (this.vips === starting) this.vips = undefined;
      });
    }
    return this.vips.catch((error) => {
      throw this.failure('derivative_failed', 'wasm-vips did not start', error);
    });
  }

  private failure(code: DerivativeErrorCode, what: string, error: unknown): DerivativeFailure {
    const details = vipsMessages(error).join('; ');
    const failure = new DerivativeFailure(code, details ? `${what}: ${details}`.slice(0, 1000) : what);
    failure.cause = error;
    return failure;
  }
}

const SUFFIXES: Record<DerivativeFormat, string> = { webp: 'webp', jpeg: 'jpg', png: 'png', avif: 'avif' };

function saveOptions(spec: DerivativeSpec): Record<string, unknown> {
  // No metadata: smaller, and nothing of the source's EXIF (camera, place) or comments leaks into a public copy.
  const options: Record<string, unknown> = { keep: 'none' };
  // PNG is lossless: the quality has no meaning there.
  if (spec.quality !== undefined && spec.format !== 'png') options.Q = spec.quality;
  // JPEG has no alpha: transparent pixels become white, not libvips' default black.
  if (spec.format === 'jpeg') options.background = [255, 255, 255];
  // AVIF at libvips' default effort (4) took 2.9 s for a 1024 box and 13 s at 4 MP (bench/README.md); effort 2 is
  // ~8× faster for ~25 % more bytes, and keeps a job's derivatives inside the consumer's time.
  if (spec.format === 'avif') options.effort = 2;
  return options;
}

async function startVips(concurrency: number): Promise<Vips> {
  // `require`, not `import()`: a bundle keeps a dynamic import as ESM, which resolves the package's `import`
  // condition (lib/vips-node.mjs, not in the asset); required here, it loads when the first derive starts, not at
  // the function's cold start.
  const Vips: typeof import('wasm-vips') = require('wasm-vips');
  const vips = await Vips({
    dynamicLibraries: WASM_VIPS_SIDE_MODULES,
    // No libvips warnings: they are written straight to the process's stderr (not through `printErr`), outside
    // the structured logs, one per tile of a broken image (thousands); an error's own message says what failed.
    preRun: [(module: { ENV: Record<string, string> }) => (module.ENV.VIPS_WARNING = '0')],
  });
  vips.concurrency(concurrency);
  // No operation cache: every derive is of other bytes (nothing to reuse), and a cache holds images' memory
  // from one job to the next.
  vips.Cache.max(0);
  vips.blockUntrusted(true);
  vips.operationBlock('VipsForeignLoad', true);
  for (const loader of ALLOWED_LOADERS) vips.operationBlock(loader, false);
  return vips;
}

/**
 * A seekable libvips source reading the Buffer in the chunks the decoder asks for (no whole copy in the wasm heap;
 * formats that need the whole file, WebP and AVIF, still read it all in).
 */
function sourceOver(vips: Vips, bytes: Buffer) {
  const source = new vips.SourceCustom();
  let position = 0;
  source.onRead = (length: number) => {
    if (position >= bytes.length) return undefined;
    const chunk = bytes.subarray(position, position + length);
    position += chunk.length;
    return chunk;
  };
  source.onSeek = (offset: number, whence: number) => {
    const base = whence === SEEK_CUR ? position : whence === SEEK_END ? bytes.length : 0;
    const next = base + offset;
    if (next < 0 || next > bytes.length) return -1;
    position = next;
    return position;
  };
  return source;
}

const SEEK_CUR = 1;
const SEEK_END = 2;

/** libvips errors reach JS as a WebAssembly.Exception whose `message` is `['vips::Error', text]`. */
function isVipsError(error: unknown): boolean {
  const message = (error as { message?: unknown } | undefined)?.message;
  return Array.isArray(message) && message[0] === 'vips::Error';
}

/**
 * The lines of an error's message. libvips' error buffer is not cleared after an error a loader only warned
 * about, so a message can also carry older lines: the last one is the latest.
 */
function vipsMessages(error: unknown): string[] {
  const message = (error as { message?: unknown } | undefined)?.message;
  const text = Array.isArray(message) ? String(message[1] ?? '') : error instanceof Error ? error.message : '';
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** A decoder's error (libpng, libjpeg, libwebp, a loader's "load error"), by the latest line of the message. */
function isDecodeError(error: unknown): boolean {
  return (
    isVipsError(error) &&
    /load|vipspng|VipsJpeg|premature end|unable to parse|corrupt|truncat/i.test(vipsMessages(error).at(-1) ?? '')
  );
}

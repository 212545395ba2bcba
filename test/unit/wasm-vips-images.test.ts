import { deflateSync } from 'node:zlib';
import Vips from 'wasm-vips';
import { WasmVipsImages } from '../../lambdas/adapters/wasm-vips-images';
import {
  DerivativeFailure,
  type DerivativeSpec,
  MAX_DERIVATIVE_PIXELS,
  MAX_DERIVATIVE_SOURCE_BYTES,
} from '../../lambdas/core/derivatives';
import { encodePng } from '../../local/simulator/fixtures';

/** Sources made by a wasm-vips of the test's own (no fixture files); the adapter starts its own. */
let vips: Awaited<ReturnType<typeof Vips>>;
const deriver = new WasmVipsImages();

beforeAll(async () => {
  vips = await Vips({ dynamicLibraries: ['vips-heif.wasm'] });
});

/** A `width` × `height` RGB image with some grain (a uniform one compresses to nothing whatever the quality). */
function encoded(width: number, height: number, suffix: string, options: Record<string, unknown> = {}): Buffer {
  const noise = vips.Image.gaussnoise(width, height, { sigma: 30, mean: 128 });
  const image = noise.bandjoin([noise.flip('horizontal'), noise.flip('vertical')]).cast('uchar');
  try {
    return Buffer.from(image.writeToBuffer(suffix, options));
  } finally {
    image.delete();
    noise.delete();
  }
}

function decoded(bytes: Buffer): { width: number; height: number; exif: boolean } {
  const image = vips.Image.newFromBuffer(bytes);
  try {
    return { width: image.width, height: image.height, exif: image.getTypeof('exif-data') !== 0 };
  } finally {
    image.delete();
  }
}

async function failureOf(source: Buffer, spec: DerivativeSpec): Promise<DerivativeFailure> {
  const error = await deriver.derive(source, spec).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DerivativeFailure);
  return error as DerivativeFailure;
}

/** A PNG of a header alone, claiming `width` × `height`: what a decompression bomb shows before any pixel. */
const pngClaiming = (width: number, height: number): Buffer =>
  encodePng(width, height, 2, deflateSync(Buffer.alloc(1024)));

const ascii = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('latin1');

describe('WasmVipsImages', () => {
  const landscape = () => encoded(2000, 1000, '.png');

  it('fits a 2000 × 1000 PNG into a 500 wide WebP', async () => {
    const result = await deriver.derive(landscape(), { format: 'webp', maxWidth: 500 });
    expect({ width: result.width, height: result.height, contentType: result.contentType }).toEqual({
      width: 500,
      height: 250,
      contentType: 'image/webp',
    });
    expect(ascii(result.bytes, 0, 4)).toBe('RIFF');
    expect(ascii(result.bytes, 8, 12)).toBe('WEBP');
    expect(decoded(result.bytes)).toMatchObject({ width: 500, height: 250 });
  });

  it('never upscales: a 200 × 100 image in an 800 box stays 200 × 100', async () => {
    const result = await deriver.derive(encoded(200, 100, '.png'), { format: 'webp', maxWidth: 800, maxHeight: 800 });
    expect([result.width, result.height]).toEqual([200, 100]);
  });

  it('re-encodes at the original size when the spec has no box', async () => {
    const result = await deriver.derive(encoded(300, 120, '.jpg'), { format: 'png' });
    expect([result.width, result.height]).toEqual([300, 120]);
  });

  it('fits by the height alone when only maxHeight is given', async () => {
    const result = await deriver.derive(landscape(), { format: 'jpeg', maxHeight: 100 });
    expect([result.width, result.height]).toEqual([200, 100]);
  });

  it.each([
    ['jpeg', 'image/jpeg', (bytes: Buffer) => bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))],
    ['png', 'image/png', (bytes: Buffer) => bytes.subarray(1, 4).toString('latin1') === 'PNG'],
    ['avif', 'image/avif', (bytes: Buffer) => ascii(bytes, 4, 12) === 'ftypavif'],
  ] as const)('encodes %s (%s)', async (format, contentType, hasMagic) => {
    const result = await deriver.derive(encoded(400, 300, '.webp'), { format, maxWidth: 120 });
    expect(result.contentType).toBe(contentType);
    expect(hasMagic(result.bytes)).toBe(true);
    expect(decoded(result.bytes)).toMatchObject({ width: 120, height: 90 });
  });

  it('a lower quality makes smaller files; PNG ignores it', async () => {
    const source = encoded(800, 600, '.png');
    const [low, high] = await Promise.all([
      deriver.derive(source, { format: 'jpeg', quality: 20 }),
      deriver.derive(source, { format: 'jpeg', quality: 95 }),
    ]);
    expect(low.bytes.length).toBeLessThan(high.bytes.length / 2);
    const [png20, png95] = await Promise.all([
      deriver.derive(source, { format: 'png', maxWidth: 200, quality: 20 }),
      deriver.derive(source, { format: 'png', maxWidth: 200, quality: 95 }),
    ]);
    expect(png20.bytes.equals(png95.bytes)).toBe(true);
  });

  it('turns an image upright by its EXIF orientation, and keeps no metadata', async () => {
    const image = vips.Image.black(200, 100, { bands: 3 }).copy();
    image.setInt('orientation', 6); // stored landscape, displayed portrait
    const source = Buffer.from(image.writeToBuffer('.jpg'));
    image.delete();
    expect(decoded(source).exif).toBe(true);
    const result = await deriver.derive(source, { format: 'jpeg', maxHeight: 100 });
    expect([result.width, result.height]).toEqual([50, 100]);
    expect(decoded(result.bytes).exif).toBe(false);
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = vips.Image.black(60, 40, { bands: 3 }).add([255, 0, 0]).cast('uchar');
    const strip = frames.join(frames.add(-255).cast('uchar'), 'vertical').copy();
    strip.setInt('page-height', 40);
    const gif = Buffer.from(strip.writeToBuffer('.gif'));
    strip.delete();
    frames.delete();
    const result = await deriver.derive(gif, { format: 'png' });
    expect([result.width, result.height]).toEqual([60, 40]);
  });

  it('turns bytes that are not an image into not_an_image', async () => {
    const failure = await failureOf(Buffer.from('{"not":"an image"}'), { format: 'webp' });
    expect(failure.code).toBe('not_an_image');
  });

  it('turns a truncated PNG into not_an_image, not a half grey derivative', async () => {
    const source = landscape();
    const failure = await failureOf(source.subarray(0, source.length / 2), { format: 'webp', maxWidth: 100 });
    expect(failure.code).toBe('not_an_image');
  });

  it('refuses a header claiming more than MAX_DERIVATIVE_PIXELS, without decoding it', async () => {
    const bomb = pngClaiming(8000, 6000);
    expect(8000 * 6000).toBeGreaterThan(MAX_DERIVATIVE_PIXELS);
    expect(bomb.length).toBeLessThan(200);
    await deriver.derive(encoded(10, 10, '.png'), { format: 'webp' }); // started, so the time is the check's
    const started = performance.now();
    const failure = await failureOf(bomb, { format: 'webp', maxWidth: 100 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(failure.code).toBe('too_many_pixels');
    expect(failure.message).toContain('8000 × 6000');
  });

  it('refuses a source larger than MAX_DERIVATIVE_SOURCE_BYTES before reading it', async () => {
    const failure = await failureOf(Buffer.alloc(MAX_DERIVATIVE_SOURCE_BYTES + 1), { format: 'webp' });
    expect(failure.code).toBe('source_too_large');
  });

  it('runs derives asked for at once one after the other, each with its own result', async () => {
    const results = await Promise.all(
      [100, 150, 200, 250].map((maxWidth) => deriver.derive(landscape(), { format: 'webp', maxWidth })),
    );
    expect(results.map((result) => [result.width, result.height])).toEqual([
      [100, 50],
      [150, 75],
      [200, 100],
      [250, 125],
    ]);
  });

  it('keeps working after a failure', async () => {
    await failureOf(Buffer.from('nope'), { format: 'png' });
    const result = await deriver.derive(encoded(40, 20, '.png'), { format: 'png', maxWidth: 20 });
    expect([result.width, result.height]).toEqual([20, 10]);
  });
});

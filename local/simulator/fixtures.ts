import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

/**
 * Real files, checked in (written once by `fixtures/make.py`), so a default output opens as a picture or plays as
 * a sound wherever it is copied to: a 16×16 gradient PNG and 50 ms of a 440 Hz tone.
 */
const SMALL_PNG = readFileSync(join(__dirname, 'fixtures', 'image.png'));
const SHORT_WAV = readFileSync(join(__dirname, 'fixtures', 'speech.wav'));

/**
 * The whole of an output file: `sizeBytes` of its pattern when the scenario asks for a size, else a real file
 * for its type (a line of text for types without a fixture).
 */
export function fileBytes(
  predictionId: string,
  name: string,
  sizeBytes?: number,
  imageSize?: readonly [number, number],
): Buffer {
  if (sizeBytes !== undefined) return fileSlice(predictionId, name, 0, sizeBytes);
  if (name.endsWith('.png')) return imageSize ? gradientPng(...imageSize) : SMALL_PNG;
  if (name.endsWith('.wav')) return SHORT_WAV;
  return Buffer.from(`simulated output ${predictionId}/${name}\n`);
}

/**
 * Part of a file of a requested size. Deterministic for any offset: byte i of file f is a function of (f, i), so
 * copies can be checked against `fileBytes`. The pattern repeats every 64 KiB, so large files are served by
 * copying slices of one cached period, and the simulator stays small however big the file.
 */
export function fileSlice(predictionId: string, name: string, offset: number, length: number): Buffer {
  const period = patternPeriod(`${predictionId}/${name}`);
  const out = Buffer.allocUnsafe(length);
  for (let written = 0; written < length; ) {
    const start = (offset + written) % PERIOD;
    written += period.copy(out, written, start, Math.min(PERIOD, start + length - written));
  }
  return out;
}

const PERIOD = 65536;
const periods = new Map<string, Buffer>();

function patternPeriod(seed: string): Buffer {
  const cached = periods.get(seed);
  if (cached) return cached;
  let hash = 2166136261; // FNV-1a of the seed: each file gets its own pattern
  for (const c of seed) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619);
  const period = Buffer.allocUnsafe(PERIOD);
  for (let i = 0; i < PERIOD; i++) period[i] = (i * 31 + (hash & 0xff) + (i >> 8)) & 0xff;
  if (periods.size > 256) periods.clear(); // a bound on memory for long runs with many sized files
  periods.set(seed, period);
  return period;
}

const pngs = new Map<string, Buffer>();

/** A real RGB PNG of any size (a gradient), for derivatives to decode and scale: made once per size. */
export function gradientPng(width: number, height: number): Buffer {
  const cached = pngs.get(`${width}x${height}`);
  if (cached) return cached;
  const row = 1 + width * 3;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * row + 1 + x * 3;
      raw[at] = (x * 255) / Math.max(1, width - 1);
      raw[at + 1] = (y * 255) / Math.max(1, height - 1);
      raw[at + 2] = 128;
    }
  }
  const png = encodePng(width, height, 2, deflateSync(raw));
  if (pngs.size > 16) pngs.clear();
  pngs.set(`${width}x${height}`, png);
  return png;
}

/**
 * A PNG file of `width` × `height` (8-bit, `colorType` 2 RGB or 0 gray) around already deflated scanlines: the
 * test of decompression bombs gives a header that claims far more pixels than its data holds.
 */
export function encodePng(width: number, height: number, colorType: 0 | 2, deflated: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflated),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

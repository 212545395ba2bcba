/**
 * Image derivatives: smaller or differently encoded copies of a job's image outputs (a gallery's WebP
 * thumbnail beside the original PNG). Asked for per job; made by the consumer beside each copied image; never
 * the contract: a derivative that cannot be made is listed with its error, and the job still succeeds.
 */
import * as z from './schema';

export const DERIVATIVE_FORMATS = ['webp', 'jpeg', 'png', 'avif'] as const;
export type DerivativeFormat = (typeof DERIVATIVE_FORMATS)[number];

/** At most this many derivatives a job: each costs a decode-free encode and a PUT per image output. */
export const MAX_DERIVATIVES = 4;
/** The largest box a derivative may ask for (an 8K frame): larger is an upscale of nearly every output. */
export const MAX_DERIVATIVE_DIMENSION = 8192;
/**
 * Decompression bombs: an image whose header claims more pixels than this is not decoded (a 1 KB PNG can claim
 * 50 000 × 50 000). 40 MP covers 8K × 5K; decoding it whole takes about 160 MB as RGBA (a thumbnail of a JPEG or
 * PNG streams it in far less; WebP is decoded whole: bench/derivatives.ts).
 */
export const MAX_DERIVATIVE_PIXELS = 40_000_000;
/** An image output larger than this is copied but not decoded for derivatives (it stays in memory meanwhile). */
export const MAX_DERIVATIVE_SOURCE_BYTES = 50 * 1024 * 1024;

export const DERIVATIVE_CONTENT_TYPES: Record<DerivativeFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  avif: 'image/avif',
};
export const DERIVATIVE_EXTENSIONS: Record<DerivativeFormat, string> = {
  webp: 'webp',
  jpeg: 'jpg',
  png: 'png',
  avif: 'avif',
};

const dimension = z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_DERIVATIVE_DIMENSION)));
export const DerivativeSpecSchema = z.strictObject({
  format: z.enum(DERIVATIVE_FORMATS),
  /** Fit inside this box, aspect ratio kept; never upscaled. Neither: the original size, re-encoded. */
  maxWidth: dimension,
  maxHeight: dimension,
  /** The encoder's quality, 1–100 (lossy formats; PNG ignores it). Default: the encoder's (about 75–80). */
  quality: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(100))),
});
export type DerivativeSpec = z.infer<typeof DerivativeSpecSchema>;

/** Why a derivative was not made: listed on the variant, never a job failure. */
export const DERIVATIVE_ERROR_CODES = [
  'not_an_image',
  'too_many_pixels',
  'source_too_large',
  /** The job's derivatives took half the consumer's time: the rest are not made, so the copy still ends in time. */
  'out_of_time',
  'derivative_failed',
] as const;
export type DerivativeErrorCode = (typeof DERIVATIVE_ERROR_CODES)[number];

export class DerivativeFailure extends Error {
  override readonly name = 'DerivativeFailure';
  constructor(
    readonly code: DerivativeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One derivative made: its encoded bytes and size in pixels. */
export interface EncodedImage {
  bytes: Buffer;
  width: number;
  height: number;
  contentType: string;
}

/** Output media types the consumer decodes for derivatives (raster images libvips reads). */
export const DERIVABLE_CONTENT_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
]);

/**
 * The box a derivative fits in, for an image of `width` × `height`: aspect ratio kept, never larger than the
 * source (no upscaling), at least one pixel a side.
 */
export function fittedSize(
  width: number,
  height: number,
  spec: Pick<DerivativeSpec, 'maxWidth' | 'maxHeight'>,
): { width: number; height: number } {
  const scale = Math.min(1, (spec.maxWidth ?? width) / width, (spec.maxHeight ?? height) / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

import { retentionTagsOf, variantKey } from '../../contract/bucket';
import { DERIVATIVE_EXTENSIONS, DerivativeFailure, MAX_DERIVATIVE_SOURCE_BYTES } from '../core/derivatives';
import type { Job, StoredVariant } from '../core/job';
import type { Dependencies } from './dependencies';

/**
 * Makes and stores the job's derivatives of one image output, beside it, in the order asked for. A derivative that
 * cannot be made (not an image, too many pixels, too large to decode) is listed with its error: the original copy
 * is the contract, and the job succeeds. Only storing one can fail (S3): the whole copy is then retried.
 * `source` is the output's bytes, or undefined when it was too large to keep in memory for decoding. Past
 * `deriveUntil` (epoch ms) no derivative is started: a job of many images (up to 100 × 4 derivatives) must not keep
 * the copy past the consumer's timeout, where it would be retried, and time out, again.
 */
export async function deriveVariants(
  deps: Pick<Dependencies, 'images' | 'objects' | 'log'>,
  job: Pick<Job, 'id' | 'owner' | 'derivatives' | 'retentionDays'>,
  index: number,
  source: Buffer | undefined,
  deriveUntil: number,
): Promise<StoredVariant[]> {
  const variants: StoredVariant[] = [];
  for (const [k, spec] of (job.derivatives ?? []).entries()) {
    try {
      if (!source) {
        throw new DerivativeFailure('source_too_large', `The image is over ${MAX_DERIVATIVE_SOURCE_BYTES} bytes`);
      }
      if (Date.now() > deriveUntil) {
        throw new DerivativeFailure('out_of_time', "The job's derivatives took half of the consumer's time");
      }
      const image = await deps.images.derive(source, spec);
      const key = variantKey(job.owner, job.id, index, k, DERIVATIVE_EXTENSIONS[spec.format]);
      const { size } = await deps.objects.upload(
        key,
        image.bytes,
        image.contentType,
        retentionTagsOf(job.retentionDays),
      );
      variants.push({
        format: spec.format,
        key,
        contentType: image.contentType,
        size,
        width: image.width,
        height: image.height,
      });
    } catch (error) {
      if (!(error instanceof DerivativeFailure)) throw error;
      deps.log.info('derivative not made', { jobId: job.id, index, format: spec.format, code: error.code });
      variants.push({ format: spec.format, error: { code: error.code, message: error.message } });
    }
  }
  return variants;
}

/**
 * Keeps the chunks of a stream that passes by, up to `MAX_DERIVATIVE_SOURCE_BYTES`; past that it keeps nothing
 * (the image is copied all the same, and its derivatives are listed as `source_too_large`).
 */
export class SourceKeeper {
  private chunks: Buffer[] | undefined = [];
  private kept = 0;

  add(chunk: Buffer): void {
    if (!this.chunks) return;
    this.kept += chunk.length;
    if (this.kept > MAX_DERIVATIVE_SOURCE_BYTES) this.chunks = undefined;
    else this.chunks.push(chunk);
  }

  bytes(): Buffer | undefined {
    return this.chunks && Buffer.concat(this.chunks);
  }
}

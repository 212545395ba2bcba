import { DEFAULTS } from '../../contract/defaults';
import { OutputFailure } from './errors';

/**
 * What one job may store, whatever its model returns: a prediction is a stranger's program, and without a cap
 * one job could fill the bucket (or the job item) with thousands of files. Exceeding either fails the job, and
 * nothing of it stays in the bucket.
 */
export interface OutputLimits {
  /** Files in one prediction's output (`too_many_outputs`); checked before anything is downloaded. */
  maxFiles: number;
  /** Bytes of all its files together (`outputs_total_too_large`); counted on the streams as they are copied. */
  maxTotalBytes: number;
}

/**
 * 100 files is far above what image, audio and video models return (1 to 10), with room for frame sequences.
 * 5 GiB is the default limit of one file (`maxOutputBytes`): a job may always hold one file of the largest size.
 */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = {
  maxFiles: DEFAULTS.maxOutputFiles,
  maxTotalBytes: DEFAULTS.maxOutputTotalBytes,
};

/**
 * The highest `maxFiles` a deployment may set. Each file's record takes ~150 bytes of the job item (400 KB at
 * most), next to an input of up to 256 KiB and an inline output of up to 64 KiB: about 500 records still fit;
 * this leaves them twice that room.
 */
export const MAX_OUTPUT_FILES_CEILING = 250;

export function checkFileCount(count: number, limits: OutputLimits): void {
  if (count > limits.maxFiles) {
    throw new OutputFailure(
      'too_many_outputs',
      `The output has ${count} files; at most ${limits.maxFiles} are stored per job`,
      true,
    );
  }
}

/**
 * The bytes a job's copies may still take, shared by its concurrent downloads. Once over, it stays over: every
 * download still running fails at its next chunk, so a doomed copy stops at once.
 */
export class ByteBudget {
  private used = 0;
  private exceeded = false;

  constructor(private readonly maxBytes: number) {}

  /** Counts `bytes` more; throws `outputs_total_too_large` once the total passes the limit. */
  take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.maxBytes) this.exceeded = true;
    if (this.exceeded) {
      throw new OutputFailure(
        'outputs_total_too_large',
        `The output files together are larger than the limit of ${this.maxBytes} bytes`,
        true,
      );
    }
  }

  /** Returns the bytes of a download that failed and will be tried again (they are counted again then). */
  giveBack(bytes: number): void {
    this.used -= bytes;
  }
}

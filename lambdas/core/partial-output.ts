import { jobStatusOf, type Prediction } from './prediction';

/**
 * A running prediction's output so far (a language model's tokens, a progressive image), kept on the job while it
 * runs and shown as `partialOutput`. Capped so the job item stays far under DynamoDB's 400 KB with its input: a
 * partial output past the cap is not recorded, so the last one under it stays until the job ends.
 */
export const MAX_PARTIAL_OUTPUT_BYTES = 32 * 1024;

export interface PartialOutput {
  /** The output as JSON text (stored as text, like every free-form JSON of the job). */
  json: string;
  /**
   * Its size in bytes: the order of partial outputs. Replicate's `output` events may arrive out of order and twice;
   * a model's output only grows while it runs (tokens appended, files added), so the larger one is the later one.
   */
  size: number;
}

/** The partial output a prediction event carries: only a running prediction's, non-null, under the cap. */
export function partialOutputOf(prediction: Prediction): PartialOutput | undefined {
  if (jobStatusOf(prediction) !== 'processing') return undefined;
  if (prediction.output === undefined || prediction.output === null) return undefined;
  const json = JSON.stringify(prediction.output);
  const size = Buffer.byteLength(json, 'utf8');
  return size <= MAX_PARTIAL_OUTPUT_BYTES ? { json, size } : undefined;
}

import { DERIVATIVE_ERROR_CODES, DERIVATIVE_FORMATS } from './derivatives';
import { JOB_ERROR_CODES } from './errors';
import { type CallbackDelivery, isTerminal, type Job, type StoredVariant } from './job';
import { mapOutputFiles } from './outputs';
import * as z from './schema';

/** The public shape of a job (the API contract); internal fields never leave the service. */
export interface JobView {
  id: string;
  status: Job['status'];
  model: string;
  version: string | null;
  /** The Replicate deployment the job runs on (then `model` is empty); null for a model or version. */
  deployment: string | null;
  /** The job this one retries, when it was made by `POST /jobs/{id}/retry`. */
  retryOf: string | null;
  predictionId: string | null;
  metadata: Record<string, unknown> | null;
  outputs: Array<{ key: string; url: string; contentType: string; size: number; variants?: VariantView[] }>;
  output: unknown;
  /**
   * While the job runs, its prediction's output so far, as Replicate sent it (with `webhookEvents` including
   * `output`: a language model's tokens); null otherwise. File URLs in it are Replicate's, not yet our copies.
   */
  partialOutput: unknown;
  error: Job['error'];
  /** The client callback, when the job asked for one, with its delivery log. */
  callback: { url: string; deliveries: CallbackDelivery[] } | null;
  metrics: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  /** While the job waits for capacity at Replicate (its create rate): since when; null otherwise. */
  waitingSince: string | null;
  completedAt: string | null;
  /** Days its stored objects are kept (its own `retentionDays`, or the deployment's); null: kept until deleted. */
  retentionDays: number | null;
  /** When S3's lifecycle removes its stored objects (at the latest); null while none are stored, or kept. */
  outputsExpireAt: string | null;
}

/** A derivative as the API shows it: stored (with a presigned URL) or why it was not made. */
export type VariantView =
  | { format: string; width: number; height: number; key: string; url: string; contentType: string; size: number }
  | { format: string; error: { code: string; message: string } };

/** What the view needs beyond the job: the variants' URLs (`variantUrls[i][k]`) and the deployment's retention. */
export interface JobViewExtras {
  variantUrls?: string[][];
  /** The deployment's `outputRetention` in days; undefined: kept until deleted. */
  outputRetentionDays?: number;
}

/** Days a job's objects are kept: the shorter of its own choice and the deployment's rule (both rules apply). */
export function retentionDaysOf(job: Pick<Job, 'retentionDays'>, outputRetentionDays?: number): number | null {
  const days = [job.retentionDays, outputRetentionDays].filter((d): d is number => d !== undefined && d > 0);
  return days.length > 0 ? Math.min(...days) : null;
}

/**
 * When S3 expires an object created at `createdAt` after `days`: it adds the days and rounds up to the next
 * midnight UTC (S3's lifecycle rule semantics).
 */
export function expiryOf(createdAt: string, days: number): string {
  const at = new Date(Date.parse(createdAt) + days * 86_400_000);
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return new Date(midnight === at.getTime() ? midnight : midnight + 86_400_000).toISOString();
}

/**
 * `urls[i]` is the presigned URL of stored output `i`. The output keeps Replicate's shape with each file
 * URL replaced by our copy; until the job has succeeded there are no copies, so no file URLs are shown.
 */
export function toJobView(job: Job, urls: string[], extras: JobViewExtras = {}): JobView {
  const stored = job.status === 'succeeded';
  const retentionDays = retentionDaysOf(job, extras.outputRetentionDays);
  return {
    id: job.id,
    status: job.status,
    model: job.model,
    version: job.version ?? null,
    deployment: job.deployment ?? null,
    retryOf: job.retryOf ?? null,
    predictionId: job.predictionId ?? null,
    metadata: job.metadata ?? null,
    outputs: job.outputs.map((output, i) => ({
      key: output.key,
      url: urls[i],
      contentType: output.contentType,
      size: output.size,
      ...(output.variants
        ? { variants: output.variants.map((v, k) => variantView(v, extras.variantUrls?.[i]?.[k])) }
        : {}),
    })),
    output: stored ? mapOutputFiles(job.output ?? null, (file) => urls[file.index] ?? null) : null,
    partialOutput: isTerminal(job.status) ? null : (job.partialOutput ?? null),
    error: job.error,
    callback: job.callbackUrl ? { url: job.callbackUrl, deliveries: job.callbackDeliveries ?? [] } : null,
    metrics: job.metrics ?? null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt ?? null,
    waitingSince: job.waitingSince ?? null,
    completedAt: job.completedAt ?? null,
    retentionDays,
    outputsExpireAt:
      retentionDays !== null && stored && job.completedAt && (job.outputs.length > 0 || job.outputKey)
        ? expiryOf(job.completedAt, retentionDays)
        : null,
  };
}

function variantView(variant: StoredVariant, url: string | undefined): VariantView {
  if ('error' in variant) return { format: variant.format, error: variant.error };
  const { format, width, height, key, contentType, size } = variant;
  return { format, width, height, key, url: url ?? '', contentType, size };
}

/** The same shape as a schema, for the OpenAPI document (kept beside the interface it describes). */
export function jobViewSchema() {
  const nullableString = z.nullable(z.string());
  return z.object({
    id: z.string(),
    status: z.enum(['queued', 'starting', 'processing', 'succeeded', 'failed', 'canceled']),
    model: z.string(),
    version: nullableString,
    deployment: nullableString,
    retryOf: nullableString,
    predictionId: nullableString,
    metadata: z.nullable(z.record(z.string(), z.unknown())),
    outputs: z.array(
      z.object({
        key: z.string(),
        url: z.string(),
        contentType: z.string(),
        size: z.number(),
        variants: z.optional(
          z.array(
            z.union([
              z.object({
                format: z.enum(DERIVATIVE_FORMATS),
                width: z.number(),
                height: z.number(),
                key: z.string(),
                url: z.string(),
                contentType: z.string(),
                size: z.number(),
              }),
              z.object({
                format: z.enum(DERIVATIVE_FORMATS),
                error: z.object({ code: z.enum(DERIVATIVE_ERROR_CODES), message: z.string() }),
              }),
            ]),
          ),
        ),
      }),
    ),
    output: z.unknown(),
    partialOutput: z.unknown(),
    error: z.nullable(z.object({ code: z.enum(JOB_ERROR_CODES), message: z.string() })),
    callback: z.nullable(
      z.object({
        url: z.string(),
        deliveries: z.array(
          z.object({ at: z.string(), attempt: z.number(), status: z.number(), error: z.optional(z.string()) }),
        ),
      }),
    ),
    metrics: z.nullable(z.record(z.string(), z.unknown())),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: nullableString,
    waitingSince: nullableString,
    completedAt: nullableString,
    retentionDays: z.nullable(z.number()),
    outputsExpireAt: nullableString,
  });
}

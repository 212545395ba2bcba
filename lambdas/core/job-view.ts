import { JOB_ERROR_CODES } from './errors';
import type { CallbackDelivery, Job } from './job';
import { mapOutputFiles } from './outputs';
import * as z from './schema';

/** The public shape of a job (the API contract); internal fields never leave the service. */
export interface JobView {
  id: string;
  status: Job['status'];
  model: string;
  version: string | null;
  predictionId: string | null;
  metadata: Record<string, unknown> | null;
  outputs: Array<{ key: string; url: string; contentType: string; size: number }>;
  output: unknown;
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
}

/**
 * `urls[i]` is the presigned URL of stored output `i`. The output keeps Replicate's shape with each file
 * URL replaced by our copy; until the job has succeeded there are no copies, so no file URLs are shown.
 */
export function toJobView(job: Job, urls: string[]): JobView {
  const stored = job.status === 'succeeded';
  return {
    id: job.id,
    status: job.status,
    model: job.model,
    version: job.version ?? null,
    predictionId: job.predictionId ?? null,
    metadata: job.metadata ?? null,
    outputs: job.outputs.map((output, i) => ({
      key: output.key,
      url: urls[i],
      contentType: output.contentType,
      size: output.size,
    })),
    output: stored ? mapOutputFiles(job.output ?? null, (file) => urls[file.index] ?? null) : null,
    error: job.error,
    callback: job.callbackUrl ? { url: job.callbackUrl, deliveries: job.callbackDeliveries ?? [] } : null,
    metrics: job.metrics ?? null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt ?? null,
    waitingSince: job.waitingSince ?? null,
    completedAt: job.completedAt ?? null,
  };
}

/** The same shape as a schema, for the OpenAPI document (kept beside the interface it describes). */
export function jobViewSchema() {
  const nullableString = z.nullable(z.string());
  return z.object({
    id: z.string(),
    status: z.enum(['queued', 'starting', 'processing', 'succeeded', 'failed', 'canceled']),
    model: z.string(),
    version: nullableString,
    predictionId: nullableString,
    metadata: z.nullable(z.record(z.string(), z.unknown())),
    outputs: z.array(z.object({ key: z.string(), url: z.string(), contentType: z.string(), size: z.number() })),
    output: z.unknown(),
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
  });
}

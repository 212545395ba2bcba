import { z } from 'zod';
import type { JobStatus } from './job';

/**
 * The parts of a Replicate prediction we act on. Replicate adds fields over time, so unknown fields pass
 * through (`looseObject`); what we read is checked, because a signed body is still input to be validated.
 */
export const PredictionSchema = z.looseObject({
  id: z.string().min(1).max(128),
  status: z.string().max(32),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  logs: z.string().nullish(),
  metrics: z.record(z.string(), z.unknown()).nullish(),
  created_at: z.string().nullish(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  webhook: z.string().nullish(),
});
export type Prediction = z.infer<typeof PredictionSchema>;

/** Replicate's prediction statuses mapped to ours; `aborted` (terminated before it started) is a failure. */
const STATUS_FROM_REPLICATE: Record<string, JobStatus> = {
  starting: 'starting',
  processing: 'processing',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  aborted: 'failed',
};

export const jobStatusOf = (prediction: Pick<Prediction, 'status'>): JobStatus | undefined =>
  Object.hasOwn(STATUS_FROM_REPLICATE, prediction.status) ? STATUS_FROM_REPLICATE[prediction.status] : undefined;

/** Replicate reports errors as a string (sometimes an object); we keep a bounded human message. */
export function predictionErrorMessage(prediction: Prediction): string {
  const raw = prediction.error;
  const text = typeof raw === 'string' ? raw : raw == null ? '' : JSON.stringify(raw);
  if (text) return text.slice(0, 2000);
  return prediction.status === 'aborted' ? 'The prediction was aborted before it started' : 'The prediction failed';
}

/**
 * The job id our submit put in the prediction's webhook URL. The webhook URL is part of the signed body, so
 * a job id read from it cannot be redirected by editing the URL the webhook was delivered to.
 */
export function jobIdFromWebhookUrl(webhook: string | null | undefined): string | undefined {
  if (!webhook) return undefined;
  try {
    return new URL(webhook).searchParams.get('job') ?? undefined;
  } catch {
    return undefined;
  }
}

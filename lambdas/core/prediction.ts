import type { JobStatus } from './job';
import * as z from './schema';

/**
 * The parts of a Replicate prediction we act on. Replicate adds fields over time, so unknown fields pass
 * through (`looseObject`); what we read is checked, because a signed body is still input to be validated.
 */
const optionalText = z.nullish(z.string());
export const PredictionSchema = z.looseObject({
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  status: z.string().check(z.maxLength(32)),
  output: z.optional(z.unknown()),
  error: z.optional(z.unknown()),
  logs: optionalText,
  metrics: z.nullish(z.record(z.string(), z.unknown())),
  created_at: optionalText,
  started_at: optionalText,
  completed_at: optionalText,
  webhook: optionalText,
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

/**
 * A prediction body (a webhook's, a poll's) checked as input: JSON, the fields we act on well-formed, a status
 * we know. Answers why not otherwise, so a body that can be nothing to us is refused before anything is written.
 */
export function parsePrediction(body: string): { ok: true; prediction: Prediction } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'The prediction body is not JSON' };
  }
  const parsed = PredictionSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'The body is not a Replicate prediction' };
  if (!jobStatusOf(parsed.data))
    return { ok: false, reason: `Unknown prediction status ${JSON.stringify(parsed.data.status)}` };
  return { ok: true, prediction: parsed.data };
}

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

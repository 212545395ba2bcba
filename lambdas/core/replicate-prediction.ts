/**
 * Replicate's prediction API over our jobs (the `/v1` routes): its create body read into a job spec, and a job
 * written as Replicate's prediction object, so Replicate's own clients work against us unchanged. Pure: no AWS.
 */
import { InvalidRequest } from './errors';
import { type Job, type JobSpec, WEBHOOK_EVENTS } from './job';
import type { JobView } from './job-view';
import { type FieldIssue, fieldIssues, validationFailed } from './request-body';
import * as z from './schema';
import { isHttpUrl, jobSpecOf, type SubmitOptions, VERSION_ID } from './submit-request';

/** What a `/v1` create names: a version (`POST /v1/predictions`), a model or a deployment (in the path). */
export type PredictionTarget = { kind: 'version' } | { kind: 'model' | 'deployment'; owner: string; name: string };

/**
 * The create body Replicate's clients send. Fields Replicate knows that we do not act on (`stream`) are accepted and
 * ignored, as are unknown ones: Replicate's own API ignores them too, and a client must not break on them. An
 * optional field may be null (some clients send every field), which means absent.
 */
export const CreatePredictionBody = z.object({
  /** A 64-hex version id, `owner/name:<version>` or `owner/name` (`POST /v1/predictions` only). */
  version: z.nullish(z.string().check(z.maxLength(300))),
  input: z.record(z.string(), z.unknown()),
  webhook: z.nullish(z.string().check(z.maxLength(2048), z.refine(isHttpUrl, 'must be an absolute http(s) URL'))),
  webhook_events_filter: z.nullish(z.array(z.enum(WEBHOOK_EVENTS)).check(z.minLength(1), z.maxLength(4))),
  stream: z.nullish(z.boolean()),
});

/** Our field names in a refusal, as the `/v1` body names them (`model` is the body's `version` on that route only). */
const V1_FIELD: Record<string, string> = { callbackUrl: 'webhook', webhookEvents: 'webhook_events_filter' };

/**
 * A `/v1` create's body (parsed JSON) as the job it asks for; `validation_failed` naming Replicate's fields.
 * The webhook gets the prediction object when the job ends: Replicate's `completed` event. `start`, `output` and
 * `logs` in `webhook_events_filter` are asked of Replicate for the job (its `output` so far shows while it runs),
 * but only the end is delivered; a filter without `completed` asks for no webhook at all.
 */
export function predictionJobSpec(json: unknown, target: PredictionTarget, options: SubmitOptions = {}): JobSpec {
  const parsed = CreatePredictionBody.safeParse(json);
  if (!parsed.success) throw validationFailed(fieldIssues(parsed.error));
  const { version, input, webhook, webhook_events_filter: events } = parsed.data;
  const named: Record<string, unknown> = {};
  if (target.kind === 'version') {
    if (!version) throw validationFailed([{ path: 'version', message: 'is required' }]);
    if (VERSION_ID.test(version)) named.version = version;
    else named.model = version;
  } else if (target.kind === 'model') {
    named.model = `${target.owner}/${target.name}`;
    if (version && VERSION_ID.test(version)) named.version = version;
  } else {
    named.deployment = `${target.owner}/${target.name}`;
  }
  const delivered = typeof webhook === 'string' && (!events || events.includes('completed'));
  try {
    const spec = jobSpecOf(
      { ...named, input, ...(events ? { webhookEvents: events } : {}), ...(delivered ? { callbackUrl: webhook } : {}) },
      options,
    );
    return delivered ? { ...spec, callbackShape: 'prediction' } : spec;
  } catch (error) {
    throw inV1Terms(error, target.kind === 'version' ? { ...V1_FIELD, model: 'version' } : V1_FIELD);
  }
}

/** A refusal about our fields, told with the `/v1` body's names (`callbackUrl` → `webhook`). */
function inV1Terms(error: unknown, names: Record<string, string>): unknown {
  if (!(error instanceof InvalidRequest) || error.code !== 'validation_failed' || !Array.isArray(error.details)) {
    return error;
  }
  const renamed = (error.details as FieldIssue[]).map((issue) => {
    const [head, ...rest] = issue.path.split('.');
    return { ...issue, path: [names[head] ?? head, ...rest].join('.') };
  });
  return validationFailed(renamed);
}

/** Replicate's prediction statuses: ours without `queued`, which Replicate reports as `starting`. */
export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** A job as Replicate's prediction object (the fields its clients read). */
export interface Prediction {
  id: string;
  model: string;
  version: string | null;
  /** The deployment it runs on; null for a model or version. */
  deployment: string | null;
  input: Record<string, unknown>;
  /** Once succeeded: our copies' URLs in Replicate's output shape; while it runs: the output so far (Replicate's). */
  output: unknown;
  /** We keep no logs: always null. */
  logs: string | null;
  /** A failure's message; null otherwise (a canceled prediction too, as Replicate writes it). */
  error: string | null;
  status: PredictionStatus;
  source: 'api';
  /** Its stored outputs are past their retention (`outputsExpireAt`): their URLs may no longer answer. */
  data_removed: boolean;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  urls: { get: string; cancel: string };
  metrics: Record<string, unknown> | null;
}

export interface PredictionOptions {
  /** Now, to tell whether the outputs' retention has passed (`data_removed`). */
  now: Date;
  /**
   * The answer of a create held by `Prefer: wait`: an unfinished prediction is `starting`, never `processing`.
   * Replicate's JavaScript client (`run()`) takes any other status there as the end and would return no output.
   */
  afterWait?: boolean;
}

/** The job (its view, and the input the view leaves out) as Replicate's prediction, its URLs under `apiBaseUrl`. */
export function toPrediction(
  job: Pick<Job, 'input'>,
  view: JobView,
  apiBaseUrl: string,
  options: PredictionOptions,
): Prediction {
  const get = `${apiBaseUrl}/v1/predictions/${view.id}`;
  return {
    id: view.id,
    model: view.model,
    version: view.version,
    deployment: view.deployment,
    input: job.input,
    output: view.status === 'succeeded' ? view.output : view.partialOutput,
    logs: null,
    error: view.error && view.status === 'failed' ? view.error.message : null,
    status: predictionStatus(view.status, options),
    source: 'api',
    data_removed: view.outputsExpireAt !== null && Date.parse(view.outputsExpireAt) <= options.now.getTime(),
    created_at: view.createdAt,
    started_at: view.startedAt,
    completed_at: view.completedAt,
    urls: { get, cancel: `${get}/cancel` },
    metrics: view.metrics,
  };
}

function predictionStatus(status: JobView['status'], options: PredictionOptions): PredictionStatus {
  if (status === 'queued') return 'starting';
  if (status === 'processing' && options.afterWait) return 'starting';
  return status;
}

/** The prediction's shape as a schema, for the OpenAPI document (kept beside the interface it describes). */
export function predictionSchema() {
  const nullableString = z.nullable(z.string());
  return z.object({
    id: z.string(),
    model: z.string(),
    version: nullableString,
    deployment: nullableString,
    input: z.record(z.string(), z.unknown()),
    output: z.unknown(),
    logs: nullableString,
    error: nullableString,
    status: z.enum(['starting', 'processing', 'succeeded', 'failed', 'canceled']),
    source: z.literal('api'),
    data_removed: z.boolean(),
    created_at: z.string(),
    started_at: nullableString,
    completed_at: nullableString,
    urls: z.object({ get: z.string(), cancel: z.string() }),
    metrics: z.nullable(z.record(z.string(), z.unknown())),
  });
}

import { RETENTION_DAYS_CHOICES } from '../../contract/bucket';
import { DerivativeSpecSchema, MAX_DERIVATIVES } from './derivatives';
import { InvalidRequest } from './errors';
import { type JobSpec, WEBHOOK_EVENTS, type WebhookEvent } from './job';
import { MAX_INPUT_DEPTH, MAX_METADATA_BYTES, MAX_SUBMIT_BODY_BYTES, MAX_TIMEOUT_SECONDS } from './limits';
import { fieldIssues, parseJsonBody, validationFailed } from './request-body';
import * as z from './schema';

const MODEL_NAME = /^[a-z0-9](?:[a-z0-9_.-]{0,98}[a-z0-9_])?\/[a-z0-9](?:[a-z0-9_.-]{0,98}[a-z0-9_])?$/i;
/** A model version's id: 64 lowercase hex characters. */
export const VERSION_ID = /^[0-9a-f]{64}$/;

const jsonObject = z.record(z.string(), z.unknown());

/** One schema for the body: validation, the TypeScript type and (later) the OpenAPI document come from it. */
const MODEL_MESSAGE = 'must be "owner/name" or "owner/name:<64-hex version>"';
export const SubmitJobBody = z.strictObject({
  model: z.optional(
    z.string().check(
      z.maxLength(300),
      z.regex(/^[^:]+(:[0-9a-f]{64})?$/, MODEL_MESSAGE),
      z.refine((value) => MODEL_NAME.test(value.split(':')[0]), MODEL_MESSAGE),
    ),
  ),
  version: z.optional(z.string().check(z.regex(VERSION_ID, 'must be 64 lowercase hex characters'))),
  /** A Replicate deployment, `owner/name`, instead of a model or version: the prediction runs on its hardware. */
  deployment: z.optional(
    z.string().check(
      z.maxLength(200),
      z.refine((value) => MODEL_NAME.test(value), 'must be "owner/name"'),
    ),
  ),
  input: jsonObject,
  webhookEvents: z.optional(z.array(z.enum(WEBHOOK_EVENTS)).check(z.minLength(1), z.maxLength(4))),
  metadata: z.optional(jsonObject),
  /** How long the job may stay unfinished before it is canceled and failed with `timeout`. */
  timeoutSeconds: z.optional(z.number().check(z.int(), z.minimum(10), z.maximum(MAX_TIMEOUT_SECONDS))),
  /** Where the job is POSTed, signed, when it ends. */
  callbackUrl: z.optional(z.string().check(z.maxLength(2048), z.refine(isHttpUrl, 'must be an absolute http(s) URL'))),
  /** Smaller or re-encoded copies of every image output, stored beside it (`outputs[i].variants`). */
  derivatives: z.optional(z.array(DerivativeSpecSchema).check(z.minLength(1), z.maxLength(MAX_DERIVATIVES))),
  /** Days the job's outputs are kept, shorter than the deployment's `outputRetention` if that is set. */
  retentionDays: z.optional(
    z.literal(RETENTION_DAYS_CHOICES, { error: `must be one of ${RETENTION_DAYS_CHOICES.join(', ')}` }),
  ),
});

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
  } catch {
    return false;
  }
}
export type SubmitJobBody = z.infer<typeof SubmitJobBody>;

/**
 * Parses and validates the raw body of `POST /jobs`. Throws `InvalidRequest` with a precise code and message;
 * nothing has been written when it throws.
 */
export function parseSubmitRequest(rawBody: string, options: SubmitOptions = {}): JobSpec {
  return jobSpecOf(parseBoundedJsonBody(rawBody), options);
}

export interface SubmitOptions {
  /** Callbacks must be https (in AWS). */
  callbackHttpsOnly?: boolean;
}

/** A create request's body as JSON: `body_too_large` past MAX_SUBMIT_BODY_BYTES, `invalid_json` if it is not JSON. */
export function parseBoundedJsonBody(rawBody: string): unknown {
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_SUBMIT_BODY_BYTES) {
    throw new InvalidRequest('body_too_large', `The request body must be at most ${MAX_SUBMIT_BODY_BYTES} bytes`);
  }
  return parseJsonBody(rawBody);
}

/** A parsed body of `POST /jobs` (or one `/v1` made into it) validated into the job it asks for. */
export function jobSpecOf(json: unknown, options: SubmitOptions = {}): JobSpec {
  const parsed = SubmitJobBody.safeParse(json);
  if (!parsed.success) throw validationFailed(fieldIssues(parsed.error));
  const body = parsed.data;
  const invalid = (path: string, message: string) => validationFailed([{ path, message }]);

  const [modelName, modelVersion] = (body.model ?? '').split(':');
  if (body.deployment && (body.model || body.version)) {
    throw invalid('deployment', 'give either "deployment" or "model"/"version", not both');
  }
  if (!body.model && !body.version && !body.deployment) {
    throw invalid('model', 'give "model" ("owner/name[:version]"), "version" or "deployment"');
  }
  if (modelVersion && body.version && modelVersion !== body.version) {
    throw invalid('version', 'differs from the version in "model"');
  }
  if (depthOf(body.input) > MAX_INPUT_DEPTH) throw invalid('input', `nests deeper than ${MAX_INPUT_DEPTH} levels`);
  if (body.metadata) {
    // Depth first: JSON.stringify recurses, and hostile depth would overflow the stack (a 500, not a 422).
    if (depthOf(body.metadata) > 8) throw invalid('metadata', 'nests deeper than 8 levels');
    if (Buffer.byteLength(JSON.stringify(body.metadata)) > MAX_METADATA_BYTES) {
      throw invalid('metadata', `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
    }
  }
  // The scheme as URL reads it: schemes are case-insensitive (`HTTPS://` is https).
  if (body.callbackUrl && options.callbackHttpsOnly && new URL(body.callbackUrl).protocol !== 'https:') {
    throw invalid('callbackUrl', 'must be an https URL');
  }
  // `completed` is always asked for: it is the only event Replicate retries, and the one that ends the job.
  // It is also the default: every other event costs a webhook, a queue message and a consumer run, and the
  // reconciler reports progress of quiet jobs anyway. Ask for `start` to see `starting` as it happens.
  const events = new Set<WebhookEvent>(body.webhookEvents ?? ['completed']);
  events.add('completed');
  return {
    model: modelName,
    version: modelVersion || body.version,
    deployment: body.deployment,
    input: body.input,
    metadata: body.metadata,
    webhookEvents: WEBHOOK_EVENTS.filter((event) => events.has(event)),
    timeoutSeconds: body.timeoutSeconds,
    callbackUrl: body.callbackUrl,
    derivatives: body.derivatives,
    retentionDays: body.retentionDays,
  };
}

/** Nesting depth of a JSON value, computed without recursion so hostile depth cannot overflow the stack. */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const inner of Object.values(current)) stack.push([inner, depth + 1]);
  }
  return deepest;
}

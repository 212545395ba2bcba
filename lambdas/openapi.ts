import { API_ERRORS, type ApiErrorCode } from './core/errors';
import { jobViewSchema } from './core/job-view';
import * as z from './core/schema';
import { SubmitJobBody } from './core/submit-request';
import { ListJobsQuery } from './handlers/list-jobs';
import { ROUTES, type HandlerName } from './routes';

/**
 * The OpenAPI 3.1 document of the API, generated from what the handlers use: the route table, the zod
 * schemas they validate with (no second copy) and the one list of error codes. Served at GET /openapi.json.
 */
interface Operation {
  summary: string;
  success: { status: number; description: string; schema?: 'job' | 'jobList' | 'health' | 'accepted' | 'openapi' | 'secret' };
  errors: ApiErrorCode[];
  body?: unknown;
  query?: boolean;
}

const REPLICATE_ERRORS: ApiErrorCode[] = ['replicate_rate_limited', 'replicate_unavailable', 'replicate_auth_failed'];

/** What each handler answers: its success and the error codes it can return. */
export const OPERATIONS: Record<HandlerName, Operation> = {
  submitJob: {
    summary: 'Submit a job (a Replicate prediction)',
    success: { status: 202, description: 'Accepted: the job, with a Location header', schema: 'job' },
    errors: ['unauthorized', 'invalid_json', 'invalid_idempotency_key', 'body_too_large', 'validation_failed', 'idempotency_key_reused', 'owner_limit_exceeded', 'replicate_rejected_input', ...REPLICATE_ERRORS, 'internal_error'],
    body: z.toJSONSchema(SubmitJobBody, { unrepresentable: 'any', io: 'input' }),
  },
  getJob: {
    summary: 'Get a job, with presigned URLs of its outputs',
    success: { status: 200, description: 'The job', schema: 'job' },
    errors: ['unauthorized', 'not_found', 'internal_error'],
  },
  listJobs: {
    summary: "List the owner's jobs, newest first",
    success: { status: 200, description: 'A page of jobs', schema: 'jobList' },
    errors: ['unauthorized', 'invalid_query', 'internal_error'],
    query: true,
  },
  cancelJob: {
    summary: 'Cancel a job at Replicate and mark it canceled (idempotent)',
    success: { status: 200, description: 'The canceled job', schema: 'job' },
    errors: ['unauthorized', 'not_found', 'job_already_finished', 'submission_pending', ...REPLICATE_ERRORS, 'internal_error'],
  },
  callbackSecret: {
    summary: "The caller's callback signing secret (whsec_…), to verify callbacks with any Standard Webhooks library",
    success: { status: 200, description: 'The secret', schema: 'secret' },
    errors: ['unauthorized', 'internal_error'],
  },
  receiveWebhook: {
    summary: "Replicate's webhook receiver (Standard Webhooks signature, no API key)",
    success: { status: 202, description: 'Queued (or a replay, acknowledged and ignored)', schema: 'accepted' },
    errors: ['invalid_signature', 'invalid_prediction', 'body_too_large', 'queue_unavailable', 'webhook_not_configured'],
  },
  health: { summary: 'Health check', success: { status: 200, description: 'The service can take requests', schema: 'health' }, errors: [] },
  openapi: { summary: 'This document', success: { status: 200, description: 'OpenAPI 3.1', schema: 'openapi' }, errors: [] },
};

const json = (schema: unknown) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const SUCCESS_SCHEMAS = {
  job: ref('Job'),
  jobList: ref('JobList'),
  health: { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] },
  accepted: { type: 'object', properties: { received: { const: true } } },
  openapi: { type: 'object' },
  secret: { type: 'object', properties: { secret: { type: 'string' } }, required: ['secret'] },
};

/** Strips the `$schema` key zod puts at the top of each generated schema (OpenAPI embeds them). */
function embedded(schema: unknown): unknown {
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const operation = OPERATIONS[route.handler];
    const responses: Record<string, unknown> = {
      [operation.success.status]: { description: operation.success.description, content: json(SUCCESS_SCHEMAS[operation.success.schema ?? 'openapi']) },
    };
    for (const code of operation.errors) {
      const status = String(API_ERRORS[code]);
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = { description: existing ? `${existing.description}, ${code}` : code, content: json(ref('Error')) };
    }
    const parameters = [
      ...(route.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : []),
      ...(route.handler === 'submitJob' ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }] : []),
      ...(operation.query
        ? Object.entries((embedded(z.toJSONSchema(ListJobsQuery, { unrepresentable: 'any', io: 'input' })) as { properties: Record<string, unknown> }).properties).map(
            ([name, schema]) => ({ name, in: 'query', required: false, schema }),
          )
        : []),
    ];
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.handler,
      summary: operation.summary,
      security: route.apiKeyRequired ? [{ apiKey: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      ...(operation.body ? { requestBody: { required: true, content: json(embedded(operation.body)) } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'replicate-jobs', version: '0.1.0', description: 'Replicate predictions as durable, idempotent, observable jobs.' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: {
        Job: embedded(z.toJSONSchema(jobViewSchema(), { unrepresentable: 'any' })),
        JobList: { type: 'object', properties: { jobs: { type: 'array', items: ref('Job') }, nextCursor: { type: ['string', 'null'] } }, required: ['jobs', 'nextCursor'] },
        ErrorCode: { type: 'string', enum: Object.keys(API_ERRORS) },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: ref('ErrorCode'), message: { type: 'string' }, details: {} },
            },
          },
        },
      },
    },
  };
}

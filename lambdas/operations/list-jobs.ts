import { InvalidRequest } from '../core/errors';
import { JOB_STATUSES } from '../core/job';
import { fieldIssues, issuesMessage } from '../core/request-body';
import * as z from '../core/schema';
import { listJobs } from '../use-cases/list-jobs';
import type { ApiRequest, Operation } from './operation';

/** A page's size and where it starts: `GET /jobs` and `GET /v1/predictions` page alike. */
export const PageQuery = {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
};

export const ListJobsQuery = z.strictObject({ status: z.optional(z.enum(JOB_STATUSES)), ...PageQuery });

/** `GET /jobs?status=&limit=&cursor=`: the owner's jobs, newest first. */
export const listJobsOperation: Operation = {
  name: 'listJobs',
  method: 'GET',
  path: '/jobs',
  function: 'status',
  apiKeyRequired: true,
  summary: "List the owner's jobs, newest first",
  request: { query: ListJobsQuery },
  success: { status: 200, description: 'A page of jobs', schema: 'jobList' },
  errors: ['unauthorized', 'invalid_query', 'internal_error'],
  handle: async (request, deps) => ({ body: await listJobs(deps, request.owner, parseQuery(ListJobsQuery, request)) }),
};

/** A list's query, validated: `invalid_query` naming each problem. */
export function parseQuery<T>(schema: z.ZodMiniType<T>, request: ApiRequest): T {
  const parsed = schema.safeParse(request.query);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error, '(query)');
  throw new InvalidRequest('invalid_query', issuesMessage('query', issues), issues);
}

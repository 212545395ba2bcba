import { InvalidRequest } from '../core/errors';
import { JOB_STATUSES } from '../core/job';
import * as z from '../core/schema';
import { listJobs } from '../use-cases/list-jobs';
import type { Operation } from './operation';

export const ListJobsQuery = z.strictObject({
  status: z.optional(z.enum(JOB_STATUSES)),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});

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
  async handle(request, deps) {
    const parsed = ListJobsQuery.safeParse(request.query);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        path: issue.path.join('.') || '(query)',
        message: issue.message,
      }));
      const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      throw new InvalidRequest('invalid_query', `Invalid query: ${summary}`, issues);
    }
    return { body: await listJobs(deps, request.owner, parsed.data) };
  },
};

import { ApiError } from '../core/errors';
import { JOB_ID } from '../core/ids';
import { jsonResponse, type HttpResponse } from '../core/http';
import { JOB_STATUSES } from '../core/job';
import * as z from '../core/schema';
import { failureResponse, ownerOf, type ApiEvent } from './api-event';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';

export const ListJobsQuery = z.strictObject({
  status: z.optional(z.enum(JOB_STATUSES)),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});

/**
 * `GET /jobs?status=&limit=&cursor=`: the owner's jobs, newest first. The status filter is applied to each
 * page, so a page may hold fewer than `limit` jobs while `nextCursor` still points further.
 */
export const listJobs =
  (deps: Dependencies) =>
  async (event: ApiEvent): Promise<HttpResponse> => {
    try {
      const owner = ownerOf(event);
      const parsed = ListJobsQuery.safeParse(event.queryStringParameters ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.') || '(query)', message: issue.message }));
        throw new ApiError('invalid_query', `Invalid query: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
      }
      const { status, limit, cursor } = parsed.data;
      const page = await deps.jobs.listByOwner(owner, { status, limit, cursor: cursor ? decodeCursor(cursor, owner) : undefined });
      return jsonResponse(200, {
        jobs: await Promise.all(page.jobs.map((job) => presentJob(deps, job))),
        nextCursor: page.cursor ? Buffer.from(JSON.stringify(page.cursor)).toString('base64url') : null,
      });
    } catch (error) {
      return failureResponse(deps.log, error);
    }
  };

const isTimestamp = (value: unknown) => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(value) && !Number.isNaN(Date.parse(value));

/** A cursor is the last key of the previous page; it must be the caller's own, or it could page another owner's jobs. */
function decodeCursor(cursor: string, owner: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Every field is checked, not only its type: an empty or odd key would reach DynamoDB and fail there (a 500).
    const valid =
      key && typeof key === 'object' && key.owner === owner && typeof key.id === 'string' && JOB_ID.test(key.id) && isTimestamp(key.createdAt);
    if (valid && Object.keys(key).length === 3) return key;
  } catch {
    // falls through to the error below
  }
  throw new ApiError('invalid_query', 'Invalid query: cursor: not a cursor this API gave you', [{ path: 'cursor', message: 'unknown cursor' }]);
}

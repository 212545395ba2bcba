import { InvalidRequest } from '../core/errors';
import { JOB_ID } from '../core/ids';
import type { Job, JobStatus } from '../core/job';
import type { JobView } from '../core/job-view';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';

export interface ListJobsQuery {
  status?: JobStatus;
  /** Jobs per page, 1–100. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface JobList {
  jobs: JobView[];
  nextCursor: string | null;
}

/**
 * The owner's jobs, newest first. The status filter is applied to each page, so a page may hold fewer than
 * `limit` jobs while `nextCursor` still points further.
 */
export async function listJobs(deps: Dependencies, owner: string, query: ListJobsQuery): Promise<JobList> {
  const page = await listOwnJobs(deps, owner, query);
  return { jobs: await Promise.all(page.jobs.map((job) => presentJob(deps, job))), nextCursor: page.nextCursor };
}

/** A page of the owner's job records, newest first (`GET /jobs`, `GET /v1/predictions`). */
export async function listOwnJobs(
  deps: Pick<Dependencies, 'jobs'>,
  owner: string,
  { status, limit, cursor }: ListJobsQuery,
): Promise<{ jobs: Job[]; nextCursor: string | null }> {
  const page = await deps.jobs.listByOwner(owner, {
    status,
    limit,
    cursor: cursor ? decodeCursor(cursor, owner) : undefined,
  });
  return {
    // A job deleted between the index read and the item read is a tombstone: not listed.
    jobs: page.jobs.filter((job) => !job.deletedAt),
    nextCursor: page.cursor ? Buffer.from(JSON.stringify(page.cursor)).toString('base64url') : null,
  };
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const isTimestamp = (value: unknown) =>
  typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));

/**
 * A cursor is the last key of the previous page; it must be the caller's own, or it could page another owner's jobs.
 */
function decodeCursor(cursor: string, owner: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Every field is checked, not only its type: an empty or odd key would reach DynamoDB and fail there (a 500).
    const valid =
      key &&
      typeof key === 'object' &&
      key.owner === owner &&
      typeof key.id === 'string' &&
      JOB_ID.test(key.id) &&
      isTimestamp(key.createdAt);
    if (valid && Object.keys(key).length === 3) return key;
  } catch {
    // falls through to the error below
  }
  throw new InvalidRequest('invalid_query', 'Invalid query: cursor: not a cursor this API gave you', [
    { path: 'cursor', message: 'unknown cursor' },
  ]);
}

import { JOB_STATUS_CHANGED } from '../lambdas/adapters/logged-job-repository';

/**
 * `npm start`'s live view: one line each time a job's status changes, with its path so far, e.g.
 *   job_8c… alice  queued → starting → processing → succeeded  2 outputs, 1.4 s
 * It reads the functions' own `job status changed` log lines, so it sees every path (webhook, poll, cancel,
 * timeout) exactly as CloudWatch Logs would.
 */
export function progressView(write: (line: string) => void): (record: Record<string, any>) => void {
  const paths = new Map<string, string[]>();
  return (record) => {
    if (record.message !== JOB_STATUS_CHANGED || typeof record.jobId !== 'string') return;
    const path = paths.get(record.jobId) ?? [];
    if (path[path.length - 1] === record.status) return;
    path.push(record.status);
    paths.set(record.jobId, path);
    const details: string[] = [];
    if (record.status === 'succeeded') details.push(`${record.outputs} output${record.outputs === 1 ? '' : 's'}`);
    if (record.errorCode) details.push(`${record.errorCode}: ${String(record.errorMessage ?? '').slice(0, 80)}`);
    if (record.completedAt)
      details.push(`${((Date.parse(record.completedAt) - Date.parse(record.createdAt)) / 1000).toFixed(1)} s`);
    write(`${record.jobId} ${record.owner}  ${path.join(' → ')}${details.length ? `  ${details.join(', ')}` : ''}`);
    if (['succeeded', 'failed', 'canceled'].includes(record.status)) paths.delete(record.jobId);
  };
}

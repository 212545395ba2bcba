import { MAX_PAUSE_SECONDS } from '../core/limits';
import { METRIC } from '../core/metrics';
import type { Dependencies } from './dependencies';

/**
 * Makes sure an admitter runs for a job that waits: the first waiting job of a backlog starts it and wakes the
 * admitter; while a backlog is known (the cached state says so) nothing is written, so a burst of submits does
 * not make the state item a hot key.
 */
export async function wakeAdmitter(deps: Pick<Dependencies, 'admission' | 'admissionKicks'>, now: Date): Promise<void> {
  if ((await deps.admission.state(now)).backlogSince) return;
  if (await deps.admission.startBacklog(now)) await deps.admissionKicks.send({ reason: 'backlog' });
}

/**
 * Replicate throttled a create: no create before its Retry-After (every instance reads the pause; at most
 * MAX_PAUSE_SECONDS, so a wild value cannot stop every create for a day), and the job waits in its place
 * (`waitingSince`). False when the job got a prediction or ended meanwhile.
 */
export async function waitAfterThrottle(
  deps: Pick<Dependencies, 'admission' | 'admissionKicks' | 'jobs' | 'clock' | 'log' | 'metrics'>,
  jobId: string,
  waitingSince: string,
  retryAfterSeconds: number | undefined,
): Promise<boolean> {
  const now = deps.clock();
  const pauseSeconds = Math.min(MAX_PAUSE_SECONDS, Math.max(1, retryAfterSeconds ?? 1));
  await deps.admission.pause(new Date(now.getTime() + pauseSeconds * 1000));
  deps.metrics.count(METRIC.admissionThrottled);
  const waiting = await deps.jobs.markWaiting(jobId, waitingSince);
  if (waiting) await wakeAdmitter(deps, now);
  deps.log.info('replicate throttled a create: the job waits for capacity', { jobId, retryAfterSeconds });
  return waiting;
}

import { setTimeout } from 'node:timers/promises';
import { isTerminal, type Job } from '../core/job';
import type { JobView } from '../core/job-view';
import type { Dependencies } from './dependencies';
import { presentJob } from './present-job';
import type { SubmitAnswer } from './submit-job';

/**
 * Holds a create's answer (`Prefer: wait`) until the job it recorded has ended, or until `seconds` after the request
 * arrived (`arrivedAt`, ms): the submit itself counts, so however long Replicate took to answer the create, the answer
 * comes within the wait and the submit function's timeout (the wait + 4 s) is never reached. A replay (the same
 * Idempotency-Key) is answered at once: else one job could hold any number of requests, and the function's
 * concurrency with them. Answers the job as it last read it.
 */
export async function holdUntilEnd(
  deps: Dependencies,
  answer: SubmitAnswer,
  seconds: number,
  arrivedAt: number,
): Promise<JobView> {
  if (answer.replayed || isTerminal(answer.job.status)) return answer.job;
  const ended = await waitForEnd(deps, answer.job.id, arrivedAt + seconds * 1000);
  return ended ? presentJob(deps, ended) : answer.job;
}

/**
 * Reads the job until it has ended or the clock passes `until` (ms) (a read at 100 ms, then each wait 1.5 × longer,
 * at most 1 s apart: about 30 reads in 25 s); answers the job as it last read it, or undefined once it is gone
 * (deleted meanwhile: its tombstone is no answer).
 */
export async function waitForEnd(
  deps: Pick<Dependencies, 'jobs' | 'clock'>,
  jobId: string,
  until: number,
): Promise<Job | undefined> {
  let pause = 100;
  for (;;) {
    const job = await deps.jobs.get(jobId);
    if (!job || job.deletedAt) return undefined;
    if (isTerminal(job.status)) return job;
    const left = until - deps.clock().getTime();
    if (left <= 0) return job;
    await setTimeout(Math.min(pause, left));
    pause = Math.min(1000, pause * 1.5);
  }
}

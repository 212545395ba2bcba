import { setTimeout } from 'node:timers/promises';
import { isTerminal, type Job } from '../core/job';
import type { Dependencies } from './dependencies';

/**
 * Reads the job until it has ended or `seconds` have passed (a read at 100 ms, then each wait 1.5 × longer, at
 * most 1 s apart: about 30 reads in 25 s); answers the job as it last read it.
 */
export async function waitForEnd(
  deps: Pick<Dependencies, 'jobs'>,
  jobId: string,
  seconds: number,
): Promise<Job | undefined> {
  const deadline = Date.now() + seconds * 1000;
  let pause = 100;
  for (;;) {
    const job = await deps.jobs.get(jobId);
    if (!job || isTerminal(job.status)) return job;
    const left = deadline - Date.now();
    if (left <= 0) return job;
    await setTimeout(Math.min(pause, left));
    pause = Math.min(1000, pause * 1.5);
  }
}

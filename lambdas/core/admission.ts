/**
 * Admission: how fast predictions may be created at Replicate, and in which order waiting jobs go.
 *
 * Replicate lets an account create about 600 predictions a minute and answers 429 above it. Every function
 * instance shares that rate through fixed windows of `windowSeconds`, each allowing `capacity` creates (a
 * conditional counter per window in the table): no window ever passes its share, whichever instance asks.
 */
export interface Pace {
  windowSeconds: number;
  capacity: number;
}

/**
 * The shortest window that holds a whole number of creates at `perMinute`: 600/min → 10 per 1 s window,
 * 90/min → 3 per 2 s, 7/min → 7 per 60 s. Never more than `perMinute` in any minute of aligned windows.
 */
export function paceOf(perMinute: number): Pace {
  const rate = Math.max(1, Math.floor(perMinute));
  for (const windowSeconds of [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30]) {
    if ((rate * windowSeconds) % 60 === 0) return { windowSeconds, capacity: (rate * windowSeconds) / 60 };
  }
  return { windowSeconds: 60, capacity: rate };
}

/** The window `now` falls in (its number since the epoch), and how long until the next one starts. */
export function windowOf(pace: Pace, now: Date): { window: number; msUntilNext: number } {
  const windowMs = pace.windowSeconds * 1000;
  const window = Math.floor(now.getTime() / windowMs);
  return { window, msUntilNext: (window + 1) * windowMs - now.getTime() };
}

/**
 * When the `taken`-th create of a window (1 for the first) may go: creates are spread evenly over the window
 * rather than sent together at its start, because Replicate's limit is not counted in our windows: two full
 * windows back to back would be twice the rate within one second of its count.
 */
export function slotStart(pace: Pace, window: number, taken: number): number {
  const windowMs = pace.windowSeconds * 1000;
  return window * windowMs + ((taken - 1) * windowMs) / pace.capacity;
}

/** What every instance reads before creating at once: jobs are waiting (new ones queue behind them), or a pause. */
export interface AdmissionState {
  /** Set while jobs wait for capacity: a new submission then waits too, so it cannot pass them. */
  backlogSince?: string;
  /** Replicate answered 429 with Retry-After: no create before this instant. */
  pausedUntil?: string;
}

export const isPaused = (state: AdmissionState, now: Date): boolean =>
  state.pausedUntil !== undefined && Date.parse(state.pausedUntil) > now.getTime();

/** A job waiting for capacity, as the admitter sees it. */
export interface WaitingJob {
  id: string;
  owner: string;
  waitingSince: string;
}

/**
 * The waiting jobs in the order the admitter takes them: owners in turn (round robin, each owner's turn in the
 * order owners first came), and within an owner oldest first. One owner's 10 000 waiting jobs therefore delay
 * another owner's single job by one turn, not by 10 000 creates.
 */
export class RoundRobinQueue {
  private readonly byOwner = new Map<string, WaitingJob[]>();
  private readonly known = new Set<string>();
  private turn = 0;

  /** Adds jobs not seen before (a job read twice is kept once); each owner's jobs stay oldest first. */
  add(jobs: readonly WaitingJob[]): void {
    const touched = new Set<string>();
    for (const job of jobs) {
      if (this.known.has(job.id)) continue;
      this.known.add(job.id);
      const queue = this.byOwner.get(job.owner);
      if (queue) queue.push(job);
      else this.byOwner.set(job.owner, [job]);
      touched.add(job.owner);
    }
    for (const owner of touched) this.byOwner.get(owner)!.sort(byWaitingSince);
  }

  /** The next job: the next owner's oldest. Undefined when nothing waits. */
  next(): WaitingJob | undefined {
    const owners = [...this.byOwner.keys()];
    if (owners.length === 0) return undefined;
    const owner = owners[this.turn % owners.length];
    const queue = this.byOwner.get(owner)!;
    const job = queue.shift()!;
    if (queue.length === 0) this.byOwner.delete(owner);
    else this.turn++;
    return job;
  }

  /** Puts a job taken by `next` back in front of its owner's queue (Replicate throttled its create). */
  putBack(job: WaitingJob): void {
    const queue = this.byOwner.get(job.owner);
    if (queue) queue.unshift(job);
    else this.byOwner.set(job.owner, [job]);
  }

  get size(): number {
    let size = 0;
    for (const queue of this.byOwner.values()) size += queue.length;
    return size;
  }
}

const byWaitingSince = (a: WaitingJob, b: WaitingJob) =>
  a.waitingSince < b.waitingSince ? -1 : a.waitingSince > b.waitingSince ? 1 : 0;

/** The waiting jobs' figures for the dashboard: how many, and how long the oldest has waited. */
export function backlogOf(jobs: readonly WaitingJob[], now: Date): { waiting: number; oldestWaitSeconds: number } {
  let oldest = now.getTime();
  for (const job of jobs) oldest = Math.min(oldest, Date.parse(job.waitingSince));
  return { waiting: jobs.length, oldestWaitSeconds: Math.max(0, Math.round((now.getTime() - oldest) / 1000)) };
}

import { setTimeout } from 'node:timers/promises';
import {
  EVENT_POLL_MS,
  type EventPosition,
  eventIdOf,
  formatEvent,
  HEARTBEAT,
  HEARTBEAT_MS,
  isAfter,
  MAX_STREAM_MS,
  parseEventId,
  positionOf,
  RECONNECT_MS,
  sawTheEnd,
} from '../core/event-stream';
import { isTerminal, type Job } from '../core/job';
import type { Dependencies } from './dependencies';
import { ownedJob } from './owned-job';
import { presentJob } from './present-job';

/** The stream's pace; the defaults are the contract's, tests shorten them. */
export interface StreamTiming {
  pollMs: number;
  heartbeatMs: number;
  maxStreamMs: number;
}

export const STREAM_TIMING: StreamTiming = {
  pollMs: EVENT_POLL_MS,
  heartbeatMs: HEARTBEAT_MS,
  maxStreamMs: MAX_STREAM_MS,
};

/** A stream to answer `200` with, or nothing (`204`) for a client that already saw the job end. */
export type JobEvents = { kind: 'stream'; events: AsyncIterable<string> } | { kind: 'ended' };

/**
 * `GET /jobs/{id}/events`. The owner check and the first read happen before anything is streamed, so another
 * owner's job (or none) is a plain `404`. The stream then sends the job as an event `job` at once (unless the client
 * resumes and nothing changed since its `Last-Event-ID`), then one per change (status, partial output, outputs
 * stored), a heartbeat comment when it is quiet, and ends after the terminal event; or after `maxStreamMs`, when the
 * client reconnects and resumes. Changes come from reading the job item (one read a second): a watched job costs its
 * readers, never its writers.
 */
export async function openJobEvents(
  deps: Pick<Dependencies, 'jobs' | 'objects' | 'settings'>,
  request: { owner: string; jobId: string; lastEventId?: string },
  timing: StreamTiming = STREAM_TIMING,
): Promise<JobEvents> {
  const job = await ownedJob(deps, request.owner, request.jobId);
  const claimed = parseEventId(request.lastEventId);
  // An id ahead of the job was not issued for this life of it (a forged one, or one from before a failed submission
  // was retried under the same id): ignored, so the client gets the job as on a first connect.
  const seen = claimed && !isAfter(claimed, positionOf(job)) ? claimed : undefined;
  if (sawTheEnd(job, seen)) return { kind: 'ended' };
  return { kind: 'stream', events: streamEvents(deps, job, seen, timing) };
}

async function* streamEvents(
  deps: Pick<Dependencies, 'jobs' | 'objects' | 'settings'>,
  first: Job,
  seen: EventPosition | undefined,
  timing: StreamTiming,
): AsyncGenerator<string> {
  const endsAt = Date.now() + timing.maxStreamMs;
  let job: Job | undefined = first;
  let sent = seen;
  let lastWriteAt = Date.now();
  // The reconnect delay goes first, on its own: a resumed stream with nothing new still tells the client.
  yield `retry: ${RECONNECT_MS}\n\n`;
  for (;;) {
    const position = positionOf(job);
    if (sent === undefined || isAfter(position, sent)) {
      yield formatEvent({ id: eventIdOf(position), name: 'job', data: await presentJob(deps, job) });
      sent = position;
      lastWriteAt = Date.now();
    }
    if (isTerminal(job.status)) return;
    if (Date.now() + timing.pollMs > endsAt) return; // the client reconnects with Last-Event-ID
    await setTimeout(timing.pollMs);
    if (Date.now() - lastWriteAt >= timing.heartbeatMs) {
      yield HEARTBEAT;
      lastWriteAt = Date.now();
    }
    job = await deps.jobs.get(first.id);
    if (!job || job.deletedAt) {
      // Deleted while watched: said once, then the stream ends (a reconnect answers 404, and EventSource stops).
      yield formatEvent({ name: 'deleted', data: { id: first.id } });
      return;
    }
  }
}

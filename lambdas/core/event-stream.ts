import { isTerminal, type Job } from './job';

/**
 * Server-Sent Events for a job (`GET /jobs/{id}/events`): the wire format, and the order of a job's changes that
 * event ids name so a client resumes with `Last-Event-ID` (EventSource sends it by itself when it reconnects).
 */

/** How often the stream reads the job: one strongly consistent read of its item a second. */
export const EVENT_POLL_MS = 1_000;
/** A comment line this often keeps proxies (and API Gateway's 5-minute idle limit) from closing a quiet stream. */
export const HEARTBEAT_MS = 15_000;
/**
 * One stream lasts at most this long, then ends; the client reconnects with `Last-Event-ID` and misses nothing. Short
 * enough that a client that went away without closing (the function cannot tell) costs at most this much.
 */
export const MAX_STREAM_MS = 5 * 60_000;
/** What a client waits before reconnecting after a stream ends (the `retry` field, in ms). */
export const RECONNECT_MS = 1_000;

/** Where a job is in its life: its status rank, then the size of its partial output. Both only grow. */
export interface EventPosition {
  rank: number;
  partialSize: number;
}

export const positionOf = (job: Pick<Job, 'rank' | 'partialOutputSize'>): EventPosition => ({
  rank: job.rank,
  partialSize: job.partialOutputSize ?? 0,
});

/** The event id of a position: `<rank>-<partial size>`. */
export const eventIdOf = (position: EventPosition): string => `${position.rank}-${position.partialSize}`;

/** A `Last-Event-ID` read back; anything that is not an id we issued is ignored (the client then starts over). */
export function parseEventId(value: string | undefined): EventPosition | undefined {
  const match = /^([0-3])-(\d{1,9})$/.exec(value?.trim() ?? '');
  return match ? { rank: Number(match[1]), partialSize: Number(match[2]) } : undefined;
}

export const isAfter = (a: EventPosition, b: EventPosition): boolean =>
  a.rank > b.rank || (a.rank === b.rank && a.partialSize > b.partialSize);

/** A client that already saw the job's terminal event has nothing more to get: `204` tells EventSource to stop. */
export const sawTheEnd = (job: Pick<Job, 'status' | 'rank' | 'partialOutputSize'>, seen: EventPosition | undefined) =>
  seen !== undefined && isTerminal(job.status) && !isAfter(positionOf(job), seen);

/** One event: `id`, `event`, and the data on one line (JSON has no raw newlines). */
export function formatEvent(event: { id?: string; name: string; data: unknown; retryMs?: number }): string {
  const lines = [
    ...(event.retryMs === undefined ? [] : [`retry: ${event.retryMs}`]),
    ...(event.id === undefined ? [] : [`id: ${event.id}`]),
    `event: ${event.name}`,
    `data: ${JSON.stringify(event.data)}`,
  ];
  return `${lines.join('\n')}\n\n`;
}

/** A comment: ignored by clients, but bytes on the wire. */
export const HEARTBEAT = ': heartbeat\n\n';

import { ApiFailure, type JobsClient, type JobView } from './api-client';

const TERMINAL = ['succeeded', 'failed', 'canceled'];
/** Streams that break (or end early) this many times in a row without a new event: the CLI polls instead. */
const MAX_BROKEN_STREAMS = 3;
/** A stream that lasted this long before it ended was a working one (the server ends each after 5 minutes). */
const QUIET_STREAM_MS = 10_000;
/** The wait before reconnecting after a stream broke (the server's `retry` field says the same). */
const RECONNECT_MS = 1_000;

/**
 * The job at each change until it ends, read from its event stream (`GET /jobs/{id}/events`). A stream that ends
 * before the job did (the server closes each after 5 minutes) or breaks is resumed with `Last-Event-ID`, so no change
 * is missed or repeated; if streams keep breaking (a proxy that buffers them, a network that cuts them), it polls
 * `GET /jobs/{id}` every `intervalMs` instead. A refusal from the API (404, 401) is no broken stream: it is thrown.
 */
export async function* jobUpdates(client: JobsClient, id: string, intervalMs: number): AsyncGenerator<JobView> {
  let lastEventId: string | undefined;
  for (let failures = 0; failures < MAX_BROKEN_STREAMS; ) {
    let progressed = false;
    const openedAt = Date.now();
    try {
      for await (const event of client.events(id, lastEventId)) {
        if (event.event === 'deleted') throw new ApiFailure(404, 'not_found', 'The job was deleted');
        if (event.event !== 'job') continue;
        lastEventId = event.id ?? lastEventId;
        progressed = true;
        const job = JSON.parse(event.data) as JobView;
        yield job;
        if (TERMINAL.includes(job.status)) return;
      }
      // Ended without news: the server closes a quiet stream after 5 minutes, and that is no failure.
      if (Date.now() - openedAt >= QUIET_STREAM_MS) progressed = true;
    } catch (error) {
      // A refusal (404, 401) is the answer; a 5xx (a gateway's 502, a throttled function's 500) or a 429 is a stream
      // that broke.
      if (error instanceof ApiFailure && error.status < 500 && error.status !== 429) throw error;
    }
    failures = progressed ? 0 : failures + 1;
    // As EventSource does (the server's `retry`): a pause before reconnecting, so a broken stream is no busy loop.
    if (failures > 0) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
  for (;;) {
    const job = await client.get(id);
    yield job;
    if (TERMINAL.includes(job.status)) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

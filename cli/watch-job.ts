import { ApiFailure, type JobsClient, type JobView } from './api-client';

const TERMINAL = ['succeeded', 'failed', 'canceled'];
/** Streams that break (or end early) this many times in a row without a new event: the CLI polls instead. */
const MAX_BROKEN_STREAMS = 3;

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
    } catch (error) {
      // A refusal (404, 401) is the answer; a 5xx (a gateway's 502, a timeout's 504) is a stream that broke.
      if (error instanceof ApiFailure && error.status < 500) throw error;
    }
    failures = progressed ? 0 : failures + 1;
  }
  for (;;) {
    const job = await client.get(id);
    yield job;
    if (TERMINAL.includes(job.status)) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

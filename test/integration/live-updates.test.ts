import { readEventStream, type ServerSentEvent } from '../../cli/event-stream';
import { startTestStack, type TestStack } from '../support/local-stack';

/**
 * `GET /jobs/{id}/events` on the local stack as deployed: the events function runs as a streaming Lambda (its bundle
 * on Node 24 under the Runtime Interface Client, answering through its response stream), behind the gateway's
 * streaming integration, as API Gateway's response transfer mode STREAM serves it.
 */
describe('live updates: a job as Server-Sent Events', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  /** Reads a job's event stream until the server closes it. */
  async function watch(id: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${stack.url}/jobs/${id}/events`, {
      headers: { 'x-api-key': 'key-alice', accept: 'text/event-stream', ...headers },
    });
    const events: ServerSentEvent[] = [];
    if (response.ok && response.body) for await (const event of readEventStream(response.body)) events.push(event);
    return { response, events, jobs: events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data)) };
  }

  it('sends the job at connect and at every change, queued to succeeded, then closes the stream', async () => {
    // The events function warm first: on a loaded machine its cold start could outlast the job's queued step.
    await watch((await stack.submit({ model: 'a/b', input: { simulate: { output: 'none' } } })).id);
    const job = await stack.submit({
      model: 'a/b',
      // Steps 4 s apart: the stream reads the job each second, so a state that lasts less may be passed over.
      input: { simulate: { stepMs: 4_000 } },
      webhookEvents: ['start', 'logs', 'completed'],
    });
    const { response, events, jobs } = await watch(job.id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(jobs.map((each) => each.status)).toEqual(['queued', 'starting', 'processing', 'succeeded']);
    const last = jobs.at(-1);
    expect(last.outputs).toHaveLength(1);
    expect((await fetch(last.outputs[0].url)).status).toBe(200); // the stored copy
    // Every event names where it is in the job's life: a client resumes after it.
    expect(events.map((each) => each.id)).toEqual(['0-0', '1-0', '2-0', '3-0']);
  });

  it("shows a running model's partial outputs as they arrive, in the stream and in GET /jobs/{id}", async () => {
    const job = await stack.submit({
      model: 'a/b',
      input: { simulate: { output: 'tokens', tokens: 6, partialOutputs: true, stepMs: 700 } },
      webhookEvents: ['start', 'output', 'completed'],
    });
    let seenByGet: unknown = null;
    const poll = (async () => {
      for (let i = 0; i < 100 && seenByGet === null; i++) {
        const view = (await stack.request(`/jobs/${job.id}`)).json;
        if (view.partialOutput !== null) seenByGet = view.partialOutput;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const { jobs } = await watch(job.id);
    await poll;
    const final = jobs.at(-1);
    expect(final).toMatchObject({ status: 'succeeded', partialOutput: null });
    expect(final.output).toEqual([' token0', ' token1', ' token2', ' token3', ' token4', ' token5']);
    const partials = jobs.filter((each) => each.partialOutput !== null).map((each) => each.partialOutput);
    expect(partials.length).toBeGreaterThanOrEqual(3);
    for (const [i, partial] of partials.entries()) {
      expect(final.output.slice(0, partial.length)).toEqual(partial); // a prefix of the output
      if (i > 0) expect(partial.length).toBeGreaterThan(partials[i - 1].length); // growing, never repeated
    }
    expect(Array.isArray(seenByGet)).toBe(true);
  });

  it('resumes after Last-Event-ID: only what changed since; 204 once the client saw the end', async () => {
    const job = await stack.submit({ model: 'a/b', input: {} });
    await stack.waitFor(job.id);
    const fresh = await watch(job.id);
    expect(fresh.jobs.map((each) => each.status)).toEqual(['succeeded']);
    const resumed = await watch(job.id, { 'last-event-id': '1-0' });
    expect(resumed.events.map((each) => each.id)).toEqual(['3-0']);
    const seen = await watch(job.id, { 'last-event-id': '3-0' });
    expect(seen.response.status).toBe(204);
    // An id we never issued is ignored: the client gets the job as on a first connect.
    const odd = await watch(job.id, { 'last-event-id': '3-0 OR 1=1' });
    expect(odd.events.map((each) => each.event)).toEqual(['job']);
  });

  it("answers 404 before any stream starts for another owner's job, an unknown job, a malformed id; 401 without a key", async () => {
    const job = await stack.submit({ model: 'a/b', input: {} });
    for (const [id, key] of [
      [job.id, 'key-bob'],
      ['job_00000000000000000000000000', 'key-alice'],
      ['..%2F..', 'key-alice'],
    ]) {
      const response = await fetch(`${stack.url}/jobs/${id}/events`, { headers: { 'x-api-key': key } });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'No such job' } });
    }
    expect((await fetch(`${stack.url}/jobs/${job.id}/events`)).status).toBe(401);
  });

  it('says when a watched job is deleted, then ends the stream', async () => {
    const job = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 60_000 } } });
    const watching = watch(job.id);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await stack.request(`/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    const { events } = await watching;
    expect(events.map((each) => each.event)).toEqual(['job', 'deleted']);
    expect(JSON.parse(events[1].data)).toEqual({ id: job.id });
  });
});

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobsClient } from '../../cli/api-client';
import { readEventStream } from '../../cli/event-stream';
import { jobUpdates } from '../../cli/watch-job';

/** A stand-in API for the CLI's watch: `events` answers each events request in turn; GET /jobs/{id} answers polls. */
async function standIn(events: Array<(req: IncomingMessage, res: ServerResponse) => void>, polls: string[]) {
  const seen: Array<{ path: string; lastEventId?: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url!, lastEventId: req.headers['last-event-id'] as string | undefined });
    if (req.url!.endsWith('/events')) return (events.shift() ?? ((_, r) => r.writeHead(502).end()))(req, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'job_1', status: polls.shift() ?? 'succeeded' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new JobsClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'key');
  return { client, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const sse = (id: string, status: string) => `id: ${id}\nevent: job\ndata: {"id":"job_1","status":"${status}"}\n\n`;
const streamOf =
  (...chunks: string[]) =>
  (_: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(chunks.join(''));
  };

async function collect(client: JobsClient) {
  const statuses: string[] = [];
  for await (const job of jobUpdates(client, 'job_1', 10)) statuses.push(job.status);
  return statuses;
}

describe('replicate-jobs watch', () => {
  it('follows the event stream, resuming with Last-Event-ID when a stream ends before the job', async () => {
    const api = await standIn(
      [streamOf(': heartbeat\n\n', sse('0-0', 'queued'), sse('1-0', 'starting')), streamOf(sse('3-0', 'succeeded'))],
      [],
    );
    expect(await collect(api.client)).toEqual(['queued', 'starting', 'succeeded']);
    expect(api.seen).toEqual([
      { path: '/jobs/job_1/events', lastEventId: undefined },
      { path: '/jobs/job_1/events', lastEventId: '1-0' },
    ]);
    await api.close();
  });

  it('takes streams that each end after news as working ones: four in a row, never a poll (found by a mutation)', async () => {
    const statuses = ['queued', 'starting', 'processing', 'succeeded'];
    const api = await standIn(
      statuses.map((status, rank) => streamOf(sse(`${rank}-0`, status))),
      [],
    );
    expect(await collect(api.client)).toEqual(statuses);
    expect(api.seen.every((request) => request.path.endsWith('/events'))).toBe(true);
    await api.close();
  });

  it('polls GET /jobs/{id} once streams keep breaking, and stops at the end', async () => {
    const api = await standIn([], ['processing']);
    expect(await collect(api.client)).toEqual(['processing', 'succeeded']);
    expect(api.seen.map((each) => each.path)).toEqual([
      '/jobs/job_1/events',
      '/jobs/job_1/events',
      '/jobs/job_1/events',
      '/jobs/job_1',
      '/jobs/job_1',
    ]);
    await api.close();
  });

  it('takes a throttled stream (429) as broken, not as the answer: it tries again (found by an attack)', async () => {
    const api = await standIn(
      [(_, res) => res.writeHead(429, { 'retry-after': '1' }).end(), streamOf(sse('3-0', 'succeeded'))],
      [],
    );
    expect(await collect(api.client)).toEqual(['succeeded']);
    await api.close();
  });

  it("throws the API's refusal (404) instead of polling", async () => {
    const api = await standIn(
      [
        (_, res) =>
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"error":{"code":"not_found","message":"No such job"}}'),
      ],
      [],
    );
    await expect(collect(api.client)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await api.close();
  });
});

describe('readEventStream', () => {
  async function* chunks(...parts: string[]) {
    for (const part of parts) yield new TextEncoder().encode(part);
  }
  const read = async (...parts: string[]) => {
    const events = [];
    for await (const event of readEventStream(chunks(...parts))) events.push(event);
    return events;
  };

  it('parses events split anywhere, with CRLF, CR or LF line ends, comments and multi-line data', async () => {
    expect(await read('id: 1\r', '\nevent: job\r\ndata: a\rdata: b\n', '\n: comment\n\ndata: c\n\n')).toEqual([
      { event: 'job', data: 'a\nb', id: '1' },
      { event: 'message', data: 'c', id: '1' },
    ]);
  });

  it('dispatches nothing for an event cut off before its blank line', async () => {
    expect(await read('event: job\ndata: {"partial"')).toEqual([]);
  });
});

import { Writable } from 'node:stream';
import type { ApiEvent } from '../../lambdas/http/api-event';
import { type StreamPrelude, streamingApiFunction } from '../../lambdas/http/stream-function';
import { OPERATIONS } from '../../lambdas/operations';
import type { Operation } from '../../lambdas/operations/operation';
import { watchJobOperation } from '../../lambdas/operations/watch-job';
import { fakeDependencies } from '../support/fake-ports';
import { OWNER, seedJob } from './use-cases/builders';

/** What a streaming function wrote: the prelude (as HttpResponseStream.from writes it first), then each chunk. */
function recordingStream() {
  const written: { prelude?: StreamPrelude; chunks: string[]; ended: boolean } = { chunks: [], ended: false };
  const sink = new Writable({
    write(chunk, _encoding, done) {
      written.chunks.push(chunk.toString());
      done();
    },
    final(done) {
      written.ended = true;
      done();
    },
  });
  const withPrelude = (stream: Writable, prelude: StreamPrelude) => {
    written.prelude = prelude;
    return stream;
  };
  return { sink, withPrelude, written };
}

function eventFor(path: string, resource: string, owner: string | null = OWNER) {
  const event: ApiEvent & { resource: string; httpMethod: string } = {
    resource,
    httpMethod: 'GET',
    path,
    body: null,
    isBase64Encoded: false,
    headers: {},
    pathParameters: { id: path.split('/')[2] },
    queryStringParameters: null,
    requestContext: { domainName: 'api.example', path: `/v1${path}`, stage: 'v1', identity: { apiKeyId: owner } },
  };
  return event;
}

describe('the streaming HTTP adapter', () => {
  const api = { operations: () => OPERATIONS };

  it('writes the prelude, then each chunk as the operation makes it, then ends', async () => {
    const deps = fakeDependencies();
    const chunks = ['one', 'two'];
    const operation: Operation = {
      ...watchJobOperation,
      handle: async () => ({
        body: undefined,
        headers: { 'content-type': 'text/event-stream' },
        stream: (async function* () {
          yield* chunks;
        })(),
      }),
    };
    const { sink, withPrelude, written } = recordingStream();
    await streamingApiFunction([operation], deps, api, withPrelude)(eventFor('/jobs/x/events', operation.path), sink);
    expect(written).toEqual({
      prelude: { statusCode: 200, headers: { 'content-type': 'text/event-stream' } },
      chunks: ['one', 'two'],
      ended: true,
    });
  });

  it("answers a refusal whole, with its code's status, before any stream: another owner's job is a 404", async () => {
    const deps = fakeDependencies();
    const job = seedJob(deps);
    const { sink, withPrelude, written } = recordingStream();
    const handler = streamingApiFunction([watchJobOperation], deps, api, withPrelude);
    await handler(eventFor(`/jobs/${job.id}/events`, watchJobOperation.path, 'someone-else'), sink);
    expect(written.prelude?.statusCode).toBe(404);
    expect(JSON.parse(written.chunks.join(''))).toEqual({ error: { code: 'not_found', message: 'No such job' } });
    expect(written.ended).toBe(true);
    const keyless = recordingStream();
    await streamingApiFunction(
      [watchJobOperation],
      deps,
      api,
      keyless.withPrelude,
    )(eventFor(`/jobs/${job.id}/events`, watchJobOperation.path, null), keyless.sink);
    expect(keyless.written.prelude?.statusCode).toBe(401);
  });

  it('ends the stream where the operation failed, and logs it (the client resumes with Last-Event-ID)', async () => {
    const deps = fakeDependencies();
    const operation: Operation = {
      ...watchJobOperation,
      handle: async () => ({
        body: undefined,
        stream: (async function* () {
          yield 'before';
          throw new Error('table unreachable');
        })(),
      }),
    };
    const { sink, withPrelude, written } = recordingStream();
    await streamingApiFunction([operation], deps, api, withPrelude)(eventFor('/jobs/x/events', operation.path), sink);
    expect(written).toMatchObject({ chunks: ['before'], ended: true });
    expect(deps.log.messages('warn')).toEqual(['event stream ended by a failure']);
  });

  it('answers 404 for a route it does not serve, and a non-streamed answer whole (204 with an empty body)', async () => {
    const deps = fakeDependencies();
    const unknown = recordingStream();
    await streamingApiFunction(
      [watchJobOperation],
      deps,
      api,
      unknown.withPrelude,
    )(eventFor('/jobs', '/jobs'), unknown.sink);
    expect(unknown.written.prelude?.statusCode).toBe(404);
    const job = seedJob(deps, { status: 'succeeded' });
    const ended = recordingStream();
    const event = eventFor(`/jobs/${job.id}/events`, watchJobOperation.path);
    event.headers = { 'Last-Event-ID': '3-0' };
    await streamingApiFunction([watchJobOperation], deps, api, ended.withPrelude)(event, ended.sink);
    expect(ended.written.prelude?.statusCode).toBe(204);
    expect(ended.written.chunks.join('')).toBe('');
  });
});

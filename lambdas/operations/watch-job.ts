import { openJobEvents } from '../use-cases/job-events';
import type { Operation } from './operation';

/** Server-Sent Events carry no cache and must not be buffered by a proxy on the way (nginx honors the last header). */
const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
};

/** `GET /jobs/{id}/events`: the owner's job as Server-Sent Events, until it ends (use-cases/job-events.ts). */
export const watchJobOperation: Operation = {
  name: 'watchJob',
  method: 'GET',
  path: '/jobs/{id}/events',
  function: 'events',
  apiKeyRequired: true,
  summary: 'Watch a job: Server-Sent Events with the job at connect and at every change, until it ends',
  request: {
    headers: [
      {
        name: 'Last-Event-ID',
        schema: { type: 'string', description: 'The id of the last event received: resume after it' },
      },
    ],
  },
  success: { status: 200, description: 'The event stream', schema: 'eventStream' },
  alsoSucceeds: [{ status: 204, description: 'The client already saw the job end (its Last-Event-ID): nothing more' }],
  errors: ['unauthorized', 'not_found', 'internal_error'],
  async handle(request, deps) {
    const opened = await openJobEvents(deps, {
      owner: request.owner,
      jobId: request.pathParameters.id ?? '',
      lastEventId: request.header('last-event-id'),
    });
    if (opened.kind === 'ended') return { status: 204, body: undefined };
    return { body: undefined, stream: opened.events, headers: EVENT_STREAM_HEADERS };
  },
};

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

/**
 * A minimal Lambda Runtime API (the 2018-06-01 interface that the Runtime Interface Client speaks), one per
 * execution environment as in Lambda: the runtime long-polls `/next` for work and posts each outcome back.
 * Paths, headers and status codes follow aws-lambda-ric 4 (index.mjs) and its native client (aws-lambda-cpp).
 */

export interface Invocation {
  requestId: string;
  /** The event, already JSON. */
  event: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
}

export interface RuntimeError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export type InvocationOutcome = { ok: true; payload: string } | { ok: false; error: RuntimeError };

export interface RuntimeApiEvents {
  /** The runtime asked for work: its init is done (first time) or it finished the previous invocation. */
  onNext(): void;
  onOutcome(requestId: string, outcome: InvocationOutcome): void;
  /**
   * A streaming handler began its response (`Lambda-Runtime-Function-Response-Mode: streaming`): its body, as the
   * runtime writes it. Its outcome follows when the runtime ends the response (an error in its trailers).
   */
  onStream(requestId: string, body: Readable): void;
  onInitError(error: RuntimeError): void;
}

const BASE = '/2018-06-01/runtime';
const RESULT_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
/** Lambda's cap on a synchronous response, and its wording when a function exceeds it. */
const MAX_RESPONSE_BYTES = 6_291_556;
const TOO_LARGE: RuntimeError = {
  errorType: 'Function.ResponseSizeTooLarge',
  errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
};

export class RuntimeApi {
  /** `host:port`, the form AWS_LAMBDA_RUNTIME_API takes (the RIC rejects anything else). */
  readonly endpoint: string;
  private readonly server: Server;
  private readonly events: RuntimeApiEvents;
  private heldNext?: ServerResponse;
  private inFlight?: string;

  private constructor(server: Server, events: RuntimeApiEvents) {
    this.server = server;
    this.events = events;
    this.endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(events: RuntimeApiEvents): Promise<RuntimeApi> {
    let api: RuntimeApi | undefined;
    const server = createServer((req, res) => {
      api?.handle(req, res).catch(() => res.destroy());
    });
    // /next is held open for as long as the environment stays idle (minutes), and the native client treats a
    // dropped /next as fatal ("Failed to get next invocation, error -1"): no request timeout at all.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000; // the client sends its headers at once; only the wait for a body is long
    server.keepAliveTimeout = 15 * 60_000; // curl reuses its connection across invocations
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    api = new RuntimeApi(server, events);
    return api;
  }

  /** Whether the runtime is blocked on /next, i.e. `send` can hand it work now. */
  get waiting(): boolean {
    return this.heldNext !== undefined;
  }

  send(invocation: Invocation): void {
    const res = this.heldNext;
    if (!res) throw new Error('The runtime is not waiting for an invocation');
    this.heldNext = undefined;
    this.inFlight = invocation.requestId;
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': invocation.requestId,
      'lambda-runtime-deadline-ms': String(invocation.deadlineMs),
      'lambda-runtime-invoked-function-arn': invocation.invokedFunctionArn,
      'lambda-runtime-trace-id': invocation.traceId,
    });
    res.end(invocation.event);
  }

  /** Stops listening and drops every connection, a held /next included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${BASE}/invocation/next`) {
      this.heldNext = res;
      // A runtime killed mid-poll must not be handed work on its dead socket.
      res.once('close', () => {
        if (this.heldNext === res) this.heldNext = undefined;
      });
      this.events.onNext();
      return;
    }
    const streamed = req.headers['lambda-runtime-function-response-mode'] === 'streaming';
    const body = streamed ? Buffer.alloc(0) : await readBody(req);
    const errorTypeHeader = req.headers['lambda-runtime-function-error-type'];
    const headerType = typeof errorTypeHeader === 'string' ? errorTypeHeader : undefined;
    if (req.method === 'POST' && url === `${BASE}/init/error`) {
      reply(res, 202, { status: 'OK' });
      this.events.onInitError(parseError(body.toString('utf8'), headerType));
      return;
    }
    const match = req.method === 'POST' ? RESULT_PATH.exec(url) : null;
    if (!match) {
      reply(res, 404, { errorType: 'NotFound', errorMessage: `No route ${req.method} ${url}` });
      return;
    }
    const requestId = decodeURIComponent(match[1]);
    if (requestId !== this.inFlight) {
      reply(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      return;
    }
    this.inFlight = undefined;
    if (streamed && match[2] === 'response') return streamResponse(requestId, req, res, this.events);
    let outcome: InvocationOutcome;
    if (match[2] === 'error') {
      outcome = { ok: false, error: parseError(body.toString('utf8'), headerType) };
      reply(res, 202, { status: 'OK' });
    } else if (body.length > MAX_RESPONSE_BYTES) {
      outcome = { ok: false, error: TOO_LARGE };
      reply(res, 413, TOO_LARGE);
    } else {
      outcome = { ok: true, payload: body.toString('utf8') };
      reply(res, 202, { status: 'OK' });
    }
    this.events.onOutcome(requestId, outcome);
  }
}

/**
 * A streamed response, as the RIC sends it: chunked, its bytes handed on as they come (no 6 MB cap: a stream may pass
 * it), and a failure reported in the trailers (`Lambda-Runtime-Function-Error-Type`, and `-Body` as base64 JSON).
 */
function streamResponse(requestId: string, req: IncomingMessage, res: ServerResponse, events: RuntimeApiEvents) {
  const body = new PassThrough();
  // Its reader sees a failure whenever it reads (an errored stream stays errored): no listener yet is no crash.
  body.on('error', () => {});
  req.pipe(body, { end: false });
  events.onStream(requestId, body);
  let ended = false;
  req.once('end', () => {
    ended = true;
    reply(res, 202, { status: 'OK' });
    const errorType = req.trailers['lambda-runtime-function-error-type'];
    if (!errorType) {
      body.end();
      return events.onOutcome(requestId, { ok: true, payload: '' });
    }
    const encoded = req.trailers['lambda-runtime-function-error-body'];
    const error = parseError(encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '', errorType);
    // The reader learns of the failure where the bytes stop, as an InvokeWithResponseStream caller does.
    body.destroy(new Error(`${error.errorType}: ${error.errorMessage}`));
    events.onOutcome(requestId, { ok: false, error });
  });
  // The runtime died mid-response (a timeout kills it): the body is cut, as a client of Lambda sees it.
  req.once('close', () => {
    if (!ended) body.destroy(new Error('The function stopped in the middle of its response stream'));
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The RIC posts `{errorType, errorMessage, trace}`; anything else is kept whole as the message. */
function parseError(body: string, headerType: string | undefined): RuntimeError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const { errorType, errorMessage, trace } = parsed as Record<string, unknown>;
      return {
        errorType: typeof errorType === 'string' ? errorType : (headerType ?? 'Unhandled'),
        errorMessage: typeof errorMessage === 'string' ? errorMessage : '',
        ...(Array.isArray(trace) ? { trace: trace.map(String) } : {}),
      };
    }
  } catch {
    // not JSON: fall through
  }
  return { errorType: headerType ?? 'Unhandled', errorMessage: body };
}

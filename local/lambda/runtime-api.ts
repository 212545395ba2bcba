import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
    const body = await readBody(req);
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

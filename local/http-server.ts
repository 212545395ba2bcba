import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../lambdas/core/errors';
import { errorResponse, type HttpResponse } from '../lambdas/core/http';
import type { ApiHandler } from '../lambdas/handlers/api-function';
import type { ApiEvent } from '../lambdas/handlers/api-event';
import { matchRoute, type HandlerName } from '../lambdas/routes';

/** API Gateway's payload limit: bigger requests never reach a function there, so they don't here either. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/**
 * The local API Gateway: matches requests against the shared route table, checks `x-api-key` where the
 * table asks for it, builds the same proxy event API Gateway would, and calls the same handler.
 */
export async function startHttpServer(options: {
  handlers: Record<HandlerName, ApiHandler>;
  /** API key → owner. */
  apiKeys: Map<string, string>;
  port: number;
  host: string;
  /** Extra routes the local stack serves itself (none of the API's). */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (options.extra?.(req, res)) return;
    serve(req, res).catch(() => send(res, errorResponse(new Error('unexpected'))));
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://local');
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    if (match === undefined) return send(res, errorResponse(new ApiError('not_found', 'No such route')));
    if (match === 'method_not_allowed') {
      await drain(req);
      return send(res, errorResponse(new ApiError('method_not_allowed', `${req.method} is not allowed on ${url.pathname}`)));
    }
    let owner: string | null = null;
    if (match.route.apiKeyRequired) {
      const key = req.headers['x-api-key'];
      owner = typeof key === 'string' ? (options.apiKeys.get(key) ?? null) : null;
      if (!owner) {
        await drain(req);
        return send(res, errorResponse(new ApiError('unauthorized', 'A valid x-api-key header is required')));
      }
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, errorResponse(new ApiError('body_too_large', 'Request body too large')), true);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    const query = Object.fromEntries(url.searchParams);
    const event: ApiEvent & { resource: string; httpMethod: string } = {
      resource: match.route.path,
      httpMethod: match.route.method,
      path: url.pathname,
      headers,
      pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : null,
      queryStringParameters: Object.keys(query).length ? query : null,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: { domainName: headers.host ?? 'localhost', path: url.pathname, stage: 'local', identity: { apiKeyId: owner } },
    };
    send(res, await options.handlers[match.route.handler](event));
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, response: HttpResponse, close = false) {
  res.writeHead(response.statusCode, { ...response.headers, ...(close ? { connection: 'close' } : {}) });
  res.end(response.body);
}

/** Reads the body, or answers undefined once it passes the limit (without buffering the rest). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage) {
  for await (const _ of req) void _;
}

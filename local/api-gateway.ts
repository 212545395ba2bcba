import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { API_KEY_REQUIRED } from '../lambdas/core/api-key-header';
import { InvalidRequest, NotFound, RequestRefused, Unauthenticated } from '../lambdas/core/errors';
import { errorResponse, type HttpResponse } from '../lambdas/http/responses';
import { errorShapeOf } from '../lambdas/operations/operation';
import { authorize } from './api-authorizer';
import type { AppModel, RouteModel } from './cloud/app-model';
import { FunctionError } from './lambda/local-function';
import { readBody } from './read-body';
import { relayStream } from './stream-integration';
import { tokenBucket } from './token-bucket';

/** API Gateway's payload limit: bigger requests never reach a function there, so they don't here either. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** API Gateway's message for a throttled request. */
const TOO_MANY_REQUESTS = 'Too Many Requests';
/** API Gateway's message when an authorizer's policy does not allow the method. */
const FORBIDDEN = 'User is not authorized to access this resource';

export interface ApiGatewayOptions {
  routes: RouteModel[];
  /** Where a request's API key comes from (default HEADER): x-api-key, or the route's authorizer's answer. */
  apiKeySource?: AppModel['apiKeySource'];
  usagePlan: AppModel['usagePlan'];
  /** The stage the template deploys (its name is in the request context, as in AWS). */
  stageName: string;
  /** API key value → API key id (the owner). */
  apiKeys: Map<string, string>;
  invoke(functionLogicalId: string, event: unknown): Promise<unknown>;
  /** InvokeWithResponseStream, for a route whose integration streams: the response body as the function writes it. */
  invokeWithResponseStream(functionLogicalId: string, event: unknown): Promise<Readable>;
  port: number;
  host: string;
  /** Pages the local stack serves itself (none of the API's). */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * The REST API as the template declares it: its resources and methods, `ApiKeyRequired`, the usage plan's
 * throttle and quota per key, the stage's throttle per method, and AWS_PROXY integrations that invoke the
 * function named in each method's integration URI with a proxy event shaped like API Gateway's. Locally a
 * missing key answers the documented `401 unauthorized` (API Gateway says 403), and an unknown route `404`/`405`.
 */
export async function startApiGateway(options: ApiGatewayOptions) {
  const limiter = usagePlanLimiter(options.usagePlan);
  const methodThrottle = methodThrottles(options.routes);
  // The API's own domain, as API Gateway puts it in every event: never the client's Host header, which would
  // let a client choose the webhook URL submit hands Replicate.
  let domainName = '';
  const server = createServer((req, res) => {
    if (options.extra?.(req, res)) return;
    serve(req, res).catch(() => {
      if (!res.headersSent) send(res, errorResponse(new Error('unexpected')));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    // Matched on the path as sent: no dot-segment or backslash normalization (API Gateway does none). Split by
    // hand: `new URL` throws on a path like `//`, which would answer a client's odd path with a 500.
    const [path, ...rest] = (req.url ?? '/').split('?');
    const query = new URLSearchParams(rest.join('?'));
    const match = matchRoute(options.routes, req.method ?? 'GET', path);
    // The gateway's own refusals in the shape of the route's errors (Replicate's under /v1).
    const refuse = (error: unknown) => errorResponse(error, errorShapeOf(path));
    // Refusals close the connection instead of reading a body nobody will use.
    if (match === undefined) return send(res, refuse(new NotFound('No such route')), true);
    if (match === 'method_not_allowed') {
      return send(
        res,
        refuse(new RequestRefused('method_not_allowed', `${req.method} is not allowed on ${path}`)),
        true,
      );
    }
    let apiKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined;
    const authorizer = match.route.authorizerFunctionLogicalId;
    if (authorizer) {
      const methodArn = `arn:aws:execute-api:us-east-1:000000000000:local/${options.stageName}/${req.method}${path}`;
      const request = proxyEvent(req, query, path, match, Buffer.alloc(0), {
        apiKeyId: undefined,
        stage: options.stageName,
        domainName,
      });
      const { body: _none, isBase64Encoded: _no, ...event } = request;
      const decision = await authorize((e) => options.invoke(authorizer, e), { ...event, methodArn });
      // Locally a missing key answers the documented 401 JSON (API Gateway's is {"message":"Unauthorized"}).
      if (decision.kind === 'unauthorized')
        return send(res, refuse(new Unauthenticated('unauthorized', API_KEY_REQUIRED)), true);
      if (decision.kind === 'denied') return send(res, gatewayAnswer(403, FORBIDDEN), true);
      if (decision.kind === 'failed') return send(res, gatewayAnswer(500, 'Internal server error'), true);
      if (options.apiKeySource === 'AUTHORIZER') apiKey = decision.usageIdentifierKey;
    }
    const apiKeyId = apiKey ? options.apiKeys.get(apiKey) : undefined;
    if (match.route.apiKeyRequired) {
      if (!apiKeyId) return send(res, refuse(new Unauthenticated('unauthorized', API_KEY_REQUIRED)), true);
      const refused = limiter(apiKeyId);
      if (refused) return send(res, gatewayAnswer(429, refused), true);
    }
    // The stage's method throttle: what bounds the methods no usage plan covers (the webhook, health).
    const throttled = methodThrottle(match.route);
    if (throttled) return send(res, gatewayAnswer(429, throttled), true);
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === undefined)
      return send(res, refuse(new InvalidRequest('body_too_large', 'Request body too large')), true);
    const event = proxyEvent(req, query, path, match, body, {
      apiKeyId: match.route.apiKeyRequired ? apiKeyId : undefined,
      stage: options.stageName,
      domainName,
    });
    try {
      if (match.route.streaming) {
        const body = await options.invokeWithResponseStream(match.route.functionLogicalId, event);
        return relayStream(body, res, () => {
          if (!res.headersSent) send(res, gatewayAnswer(502, 'Internal server error'));
        });
      }
      const response = await options.invoke(match.route.functionLogicalId, event);
      // A proxy response API Gateway cannot use is its 502, not the function's answer.
      if (!isProxyResponse(response)) return send(res, gatewayAnswer(502, 'Internal server error'));
      send(res, response);
    } catch (error) {
      if (error instanceof FunctionError && error.errorType === 'RequestEntityTooLargeException') {
        return send(
          res,
          refuse(new InvalidRequest('body_too_large', 'Request too large for a Lambda invocation (6 MB)')),
        );
      }
      // A throttled function (past its reserved concurrency): API Gateway answers 500, not the function's 429.
      if (error instanceof FunctionError && error.errorType === 'TooManyRequestsException') {
        return send(res, gatewayAnswer(500, 'Internal server error'));
      }
      // What API Gateway answers when the integration fails: the function's error never reaches the client.
      const timedOut = error instanceof FunctionError && error.errorType === 'Sandbox.Timedout';
      const message = timedOut ? 'Endpoint request timed out' : 'Internal server error';
      send(res, gatewayAnswer(timedOut ? 504 : 502, message));
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const address = server.address() as AddressInfo;
  const reachable = ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host;
  domainName = `${reachable.includes(':') ? `[${reachable}]` : reachable}:${address.port}`;
  return {
    server,
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RouteMatch {
  route: RouteModel;
  pathParameters: Record<string, string>;
}

/** Matches a concrete path against the declared resources: `{name}` takes one non-empty segment. */
export function matchRoute(
  routes: RouteModel[],
  method: string,
  path: string,
): RouteMatch | 'method_not_allowed' | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const pathParameters = matchPath(route.path, path);
    if (!pathParameters) continue;
    pathMatched = true;
    if (route.method === method || route.method === 'ANY') return { route, pathParameters };
  }
  return pathMatched ? 'method_not_allowed' : undefined;
}

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const param = /^\{(\w+)\}$/.exec(want[i]);
    if (param) {
      if (!got[i]) return undefined;
      try {
        parameters[param[1]] = decodeURIComponent(got[i]);
      } catch {
        parameters[param[1]] = got[i];
      }
    } else if (want[i] !== got[i]) {
      return undefined;
    }
  }
  return parameters;
}

/** The REST API proxy integration's event (payload format 1.0), served at the root as on a custom domain. */
function proxyEvent(
  req: IncomingMessage,
  searchParams: URLSearchParams,
  path: string,
  match: RouteMatch,
  body: Buffer,
  context: { apiKeyId: string | undefined; stage: string; domainName: string },
) {
  // Maps without a prototype: a header or parameter named `constructor` or `__proto__` is just a name.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    if (/^x-forwarded-(proto|port|for)$/i.test(name)) continue; // API Gateway sets these itself
    headers[name] = value;
    multiValueHeaders[name] ??= [];
    multiValueHeaders[name].push(value);
  }
  // API Gateway adds these; the scheme tells the functions how the client reached the API.
  const forwarded = {
    'X-Forwarded-Proto': 'http',
    'X-Forwarded-Port': String(req.socket.localPort),
    'X-Forwarded-For': req.socket.remoteAddress ?? '',
  };
  for (const [name, value] of Object.entries(forwarded)) {
    headers[name] = value;
    multiValueHeaders[name] = [value];
  }
  const query: Record<string, string> = Object.create(null);
  const multiValueQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of searchParams) {
    query[name] = value;
    multiValueQuery[name] ??= [];
    multiValueQuery[name].push(value);
  }
  const now = new Date();
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource: match.route.path,
    path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      resourcePath: match.route.path,
      httpMethod: req.method,
      path,
      stage: context.stage,
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      domainName: context.domainName,
      protocol: `HTTP/${req.httpVersion}`,
      identity: {
        apiKeyId: context.apiKeyId ?? null,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? null,
      },
    },
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

/**
 * The usage plan per API key: a token bucket (steady rate, burst) and a request quota per period, each
 * refusal answered 429 with API Gateway's own message.
 */
function usagePlanLimiter(plan: AppModel['usagePlan']): (apiKeyId: string) => string | undefined {
  const keys = new Map<string, { take: () => boolean; used: number; period: number }>();
  const periodMs = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 30 * 86_400_000 }[plan?.quotaPeriod ?? 'DAY'];
  return (apiKeyId) => {
    if (!plan) return undefined;
    const period = Math.floor(Date.now() / periodMs);
    let key = keys.get(apiKeyId);
    if (!key) {
      key = { take: tokenBucket(plan.rateLimit ?? Infinity, plan.burstLimit ?? Infinity), used: 0, period };
      keys.set(apiKeyId, key);
    }
    if (period !== key.period) Object.assign(key, { used: 0, period });
    if (plan.quotaLimit !== undefined && key.used >= plan.quotaLimit) return 'Limit Exceeded';
    if (!key.take()) return TOO_MANY_REQUESTS;
    key.used += 1;
    return undefined;
  };
}

/** The stage's throttle of each method that has one: one bucket per method, shared by every caller. */
function methodThrottles(routes: RouteModel[]): (route: RouteModel) => string | undefined {
  const buckets = new Map(
    routes
      .filter((route) => route.throttle)
      .map((route) => [route, tokenBucket(route.throttle!.rateLimit, route.throttle!.burstLimit)]),
  );
  return (route) => (buckets.get(route)?.() === false ? TOO_MANY_REQUESTS : undefined);
}

/** API Gateway's own answers (throttling, a failed integration): a JSON `message`, never the function's body. */
function gatewayAnswer(statusCode: number, message: string): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

function send(res: ServerResponse, response: HttpResponse & { isBase64Encoded?: boolean }, close = false) {
  res.writeHead(response.statusCode, { ...response.headers, ...(close ? { connection: 'close' } : {}) });
  const body = response.body ?? '';
  res.end(response.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

/** What a Lambda proxy integration must return: a status code, string headers, and a string body (or none). */
function isProxyResponse(value: unknown): value is HttpResponse & { isBase64Encoded?: boolean } {
  if (!value || typeof value !== 'object') return false;
  const { statusCode, headers, body } = value as Record<string, unknown>;
  return (
    Number.isInteger(statusCode) &&
    (statusCode as number) >= 100 &&
    (statusCode as number) <= 599 &&
    (body === undefined || body === null || typeof body === 'string') &&
    (headers === undefined ||
      (typeof headers === 'object' &&
        headers !== null &&
        Object.values(headers).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')))
  );
}

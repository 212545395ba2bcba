import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_KEY_REQUIRED } from '../core/api-key-header';
import { Unauthenticated } from '../core/errors';
import { headerOf } from '../core/webhook-signature';
import type { ApiRequest } from '../operations/operation';

/** The slice of an API Gateway (REST, proxy) event the API reads; the local gateway builds the same. */
export type ApiEvent = Pick<
  APIGatewayProxyEvent,
  'body' | 'isBase64Encoded' | 'headers' | 'pathParameters' | 'queryStringParameters' | 'path'
> & {
  requestContext: Pick<APIGatewayProxyEvent['requestContext'], 'domainName' | 'path' | 'stage'> & {
    identity: Pick<APIGatewayProxyEvent['requestContext']['identity'], 'apiKeyId'>;
  };
};

/**
 * The request an operation sees. The owner is the API key's id, which API Gateway puts in the context once
 * the key checks out; a route that requires a key and has none is refused here, before any operation runs.
 */
export function toApiRequest(event: ApiEvent, apiKeyRequired: boolean): ApiRequest {
  const owner = event.requestContext.identity.apiKeyId ?? '';
  if (apiKeyRequired && !owner) throw new Unauthenticated('unauthorized', API_KEY_REQUIRED);
  const headers = event.headers ?? {};
  return {
    owner,
    body: rawBodyOf(event),
    headers,
    header: (name) => headerOf(headers, name),
    pathParameters: event.pathParameters ?? {},
    query: event.queryStringParameters ?? {},
    baseUrl: apiBaseUrl(event),
  };
}

function rawBodyOf(event: ApiEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * The API's base URL as the client reached it (stage prefix and custom-domain base path included): the
 * request path in the context is the full one, the event's path is the route's. The scheme is the one API
 * Gateway reports in `X-Forwarded-Proto` (always https there; plain http only from a local gateway).
 */
function apiBaseUrl(event: ApiEvent): string {
  const fullPath = event.requestContext.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  const scheme = headerOf(event.headers, 'x-forwarded-proto') === 'http' ? 'http' : 'https';
  return `${scheme}://${event.requestContext.domainName}${prefix}`;
}

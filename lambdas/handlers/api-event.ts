import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ApiError } from '../core/errors';
import { errorResponse, type HttpResponse } from '../core/http';
import type { Log } from '../core/log';
import { headerOf } from '../core/webhook-signature';

/** The slice of an API Gateway (REST, proxy) event the handlers read; the local server builds the same. */
export type ApiEvent = Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers' | 'pathParameters' | 'queryStringParameters' | 'path'> & {
  requestContext: Pick<APIGatewayProxyEvent['requestContext'], 'domainName' | 'path' | 'stage'> & {
    identity: Pick<APIGatewayProxyEvent['requestContext']['identity'], 'apiKeyId'>;
  };
};

/** The owner of a request is the API key's id, which API Gateway puts in the context once the key checks out. */
export function ownerOf(event: ApiEvent): string {
  const owner = event.requestContext.identity.apiKeyId;
  if (!owner) throw new ApiError('unauthorized', 'A valid x-api-key header is required');
  return owner;
}

export function rawBodyOf(event: ApiEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export const header = (event: ApiEvent, name: string): string | undefined => headerOf(event.headers, name);

/**
 * The API's base URL as the client reached it (stage prefix and custom-domain base path included): the
 * request path in the context is the full one, the event's path is the route's. The scheme is the one API
 * Gateway reports in `X-Forwarded-Proto` (always https there; plain http only from a local gateway).
 */
export function apiBaseUrl(event: ApiEvent): string {
  const fullPath = event.requestContext.path ?? event.path;
  const prefix = fullPath.endsWith(event.path) ? fullPath.slice(0, fullPath.length - event.path.length) : '';
  const scheme = header(event, 'x-forwarded-proto') === 'http' ? 'http' : 'https';
  return `${scheme}://${event.requestContext.domainName}${prefix}`;
}

/** The error answer every API handler gives; an error we did not expect is logged, its detail kept from the client. */
export function failureResponse(log: Log, error: unknown, context: Record<string, unknown> = {}): HttpResponse {
  if (!(error instanceof ApiError)) log.error('request failed unexpectedly', { ...context, error });
  return errorResponse(error);
}

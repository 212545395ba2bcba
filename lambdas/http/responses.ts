import { RequestRefused } from '../core/errors';
import { API_ERRORS } from './error-status';

/** The response shape handlers return: API Gateway's proxy result, which the local server also speaks. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  if (statusCode === 204) return { statusCode, headers: { 'cache-control': 'no-store', ...headers }, body: '' };
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Every error body is `{"error":{"code","message","details"}}`, with the code's status and, when the refusal
 * says when to ask again, `Retry-After`. An error that is not a refusal leaks no detail: a 500.
 */
export function errorResponse(error: unknown): HttpResponse {
  const refused =
    error instanceof RequestRefused ? error : new RequestRefused('internal_error', 'Something went wrong on our side');
  const body: { code: string; message: string; details?: unknown } = { code: refused.code, message: refused.message };
  if (refused.details !== undefined) body.details = refused.details;
  const headers: Record<string, string> =
    refused.retryAfterSeconds === undefined ? {} : { 'retry-after': String(refused.retryAfterSeconds) };
  return jsonResponse(API_ERRORS[refused.code], { error: body }, headers);
}

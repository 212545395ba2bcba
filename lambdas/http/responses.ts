import { RequestRefused } from '../core/errors';
import type { ErrorShape } from '../operations/operation';
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
 * Every error body is `{"error":{"code","message","details"}}` (on `/v1`, Replicate's `{"title","detail","status"}`
 * with our `code` and `details` beside), with the code's status and, when the refusal says when to ask again,
 * `Retry-After`. An error that is not a refusal leaks no detail: a 500.
 */
export function errorResponse(error: unknown, shape: ErrorShape = 'api'): HttpResponse {
  const refused =
    error instanceof RequestRefused ? error : new RequestRefused('internal_error', 'Something went wrong on our side');
  const status = API_ERRORS[refused.code];
  const details = refused.details === undefined ? {} : { details: refused.details };
  const headers: Record<string, string> =
    refused.retryAfterSeconds === undefined ? {} : { 'retry-after': String(refused.retryAfterSeconds) };
  if (shape === 'replicate') {
    // RFC 9457 problem details, as Replicate answers them; `title` is the code in words.
    const title = refused.code.replaceAll('_', ' ');
    const problem = { title: title[0].toUpperCase() + title.slice(1), detail: refused.message, status };
    return jsonResponse(status, { ...problem, code: refused.code, ...details }, headers);
  }
  return jsonResponse(status, { error: { code: refused.code, message: refused.message, ...details } }, headers);
}

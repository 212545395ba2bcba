import { ApiError } from './errors';

/** The response shape handlers return: API Gateway's proxy result, which the local server also speaks. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Every error body is `{"error":{"code","message","details"}}`; an unexpected error leaks no detail. */
export function errorResponse(error: unknown): HttpResponse {
  const known = error instanceof ApiError ? error : new ApiError('internal_error', 'Something went wrong on our side');
  const body: { code: string; message: string; details?: unknown } = { code: known.code, message: known.message };
  if (known.details !== undefined) body.details = known.details;
  return jsonResponse(known.status, { error: body }, known.headers);
}

import { Conflict, LimitExceeded, NotFound, RequestRefused } from '../../lambdas/core/errors';
import { errorResponse, jsonResponse } from '../../lambdas/http/responses';

describe('HTTP responses', () => {
  it('are JSON that no cache keeps (a job changes; its presigned URLs expire), with extra headers on top', () => {
    expect(jsonResponse(202, { id: 'job_1' }, { location: '/jobs/job_1' })).toEqual({
      statusCode: 202,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', location: '/jobs/job_1' },
      body: '{"id":"job_1"}',
    });
    expect(jsonResponse(200, [])).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '[]',
    });
  });

  it('answer a refusal with its code’s status, its message, details and Retry-After', () => {
    const error = new LimitExceeded('owner_limit_exceeded', 'Too many jobs in flight', { limit: 'in_flight' }, 30);
    const response = errorResponse(error);
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('30');
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'owner_limit_exceeded', message: 'Too many jobs in flight', details: { limit: 'in_flight' } },
    });
  });

  it('leave details and Retry-After out when there are none', () => {
    const response = errorResponse(new NotFound('No such job'));
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'not_found', message: 'No such job' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('answer any other error with a 500 that leaks nothing of it', () => {
    const response = errorResponse(new Error('connect ECONNREFUSED 10.0.0.7:8000 (secret table name)'));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side' },
    });
    expect(errorResponse('a thrown string').statusCode).toBe(500);
  });
});

describe('refusals', () => {
  it('carry their code and name themselves in logs', () => {
    const error = new Conflict('idempotency_key_reused', 'The key was used for another request');
    expect(error).toBeInstanceOf(RequestRefused);
    expect(error).toMatchObject({ code: 'idempotency_key_reused', retryAfterSeconds: undefined });
    expect(String(error)).toBe('Conflict: The key was used for another request');
  });
});

/** A small client of the replicate-jobs REST API, for the CLI (and usable from scripts). */
import { readEventStream, type ServerSentEvent } from './event-stream';

export interface JobView {
  id: string;
  status: string;
  model: string;
  predictionId: string | null;
  outputs: Array<{ key: string; url: string; contentType: string; size: number }>;
  output: unknown;
  partialOutput?: unknown;
  error: { code: string; message: string } | null;
  createdAt: string;
  completedAt: string | null;
}

/** One day of `GET /usage` (or its totals). */
export interface UsageFigures {
  submitted: number;
  succeeded: number;
  failed: number;
  canceled: number;
  predictSeconds: number;
  estimatedCostUsd: number | null;
  unpricedJobs: number;
}

export interface UsageReport {
  owner: string;
  from: string;
  to: string;
  days: Array<{ date: string } & UsageFigures>;
  totals: UsageFigures;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

/** The API's error body as an ApiFailure (its code and message, and when to ask again). */
function failureOf(response: Response, json: { error?: { code: string; message: string } } | undefined): ApiFailure {
  const error = json?.error ?? { code: 'http_error', message: `HTTP ${response.status}` };
  return new ApiFailure(response.status, error.code, error.message, response.headers.get('retry-after') ?? undefined);
}

export class JobsClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        'x-api-key': this.apiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw failureOf(response, json);
    return json as T;
  }

  /** `GET /jobs/{id}/events`: the job's Server-Sent Events as they come (none if Last-Event-ID saw its end). */
  async *events(id: string, lastEventId?: string): AsyncGenerator<ServerSentEvent> {
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/jobs/${encodeURIComponent(id)}/events`, {
      headers: {
        'x-api-key': this.apiKey,
        accept: 'text/event-stream',
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    });
    if (!response.ok) {
      const text = await response.text();
      throw failureOf(response, text ? JSON.parse(text) : undefined);
    }
    if (response.status === 204 || !response.body) return;
    yield* readEventStream(response.body);
  }

  submit(body: unknown, idempotencyKey?: string) {
    return this.request<JobView>('POST', '/jobs', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }
  get(id: string) {
    return this.request<JobView>('GET', `/jobs/${encodeURIComponent(id)}`);
  }
  cancel(id: string) {
    return this.request<JobView>('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
  }
  usage(range: { from?: string; to?: string }) {
    const params = new URLSearchParams(Object.entries(range).filter((entry): entry is [string, string] => !!entry[1]));
    return this.request<UsageReport>('GET', `/usage${params.size ? `?${params}` : ''}`);
  }
  list(query: { status?: string; limit?: number; cursor?: string }) {
    const params = new URLSearchParams(
      Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return this.request<{ jobs: JobView[]; nextCursor: string | null }>(
      'GET',
      `/jobs${params.size ? `?${params}` : ''}`,
    );
  }
}

import Replicate from 'replicate';
import { ReplicateFailure } from '../core/errors';
import type { CreatePredictionRequest, ReplicateGateway } from '../core/ports';
import { type Prediction, PredictionSchema } from '../core/prediction';
import { type RetryPolicy, withRetries } from '../core/retry';

/**
 * The `replicate` client retries a 429 by itself, five more times almost back to back, even for a POST
 * that creates a prediction. Hammering a throttled API helps nobody: submit answers the client 429 with
 * `Retry-After` instead. So the fetch we hand the client turns a 429 into this status, which the client does
 * not retry, and `failureFrom` turns it back.
 */
const THROTTLED = 420;

const throttleVisibleFetch =
  (inner: typeof fetch): typeof fetch =>
  async (input, init) => {
    const response = await inner(input, init);
    if (response.status !== 429) return response;
    return new Response(response.body, {
      status: THROTTLED,
      statusText: 'Too Many Requests',
      headers: response.headers,
    });
  };

export interface ReplicateGatewayOptions {
  token: () => Promise<string>;
  baseUrl?: string;
  /** Per-request timeout: a hung Replicate must not hold the submit function until API Gateway gives up. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Retries of idempotent calls (get, cancel) on 5xx, timeouts and network errors. */
  retry?: RetryPolicy;
}

const isTransient = (error: unknown) => error instanceof ReplicateFailure && error.kind === 'unavailable';

export class ReplicateHttpGateway implements ReplicateGateway {
  constructor(private readonly options: ReplicateGatewayOptions) {}

  /**
   * Through the client's `request`, not `predictions.create`: that one sends no header but `Prefer`, and the deadline
   * is a header (`Cancel-After`). The routes are the client's own: a version, a model's, a deployment's.
   */
  async createPrediction(request: CreatePredictionRequest): Promise<Prediction> {
    const route = request.deployment
      ? `/deployments/${request.deployment}/predictions`
      : request.version
        ? '/predictions'
        : `/models/${request.model}/predictions`;
    const data = {
      ...(request.version && !request.deployment ? { version: request.version } : {}),
      input: request.input,
      webhook: request.webhook,
      webhook_events_filter: request.webhookEvents,
    };
    const headers: Record<string, string> =
      request.cancelAfterSeconds === undefined
        ? {}
        : { 'Cancel-After': `${Math.max(1, Math.ceil(request.cancelAfterSeconds))}s` };
    return this.call(async (client, signal) => {
      const response = await client.request(route, { method: 'POST', headers, data, signal });
      return response.json();
    });
  }

  /**
   * Reading and canceling are idempotent, so a 5xx, a timeout or a network error is retried with jittered
   * backoff. Creating is not retried: a 5xx may come after Replicate created the prediction, and a second
   * one would run (and bill) twice; the client retries with its Idempotency-Key instead.
   */
  async getPrediction(id: string): Promise<Prediction> {
    return this.retried(() => this.call((client, signal) => client.predictions.get(id, { signal })));
  }

  async cancelPrediction(id: string): Promise<Prediction> {
    return this.retried(() => this.call((client, signal) => client.predictions.cancel(id, { signal })));
  }

  private retried(operation: () => Promise<Prediction>): Promise<Prediction> {
    return withRetries(operation, this.options.retry ?? { attempts: 3, baseDelayMs: 250 }, isTransient);
  }

  private async call(operation: (client: Replicate, signal: AbortSignal) => Promise<unknown>): Promise<Prediction> {
    let token: string;
    try {
      token = await this.options.token();
    } catch (error) {
      throw new ReplicateFailure('auth_failed', `No Replicate API token: ${(error as Error).message}`);
    }
    const client = new Replicate({
      auth: token,
      baseUrl: this.options.baseUrl,
      fetch: throttleVisibleFetch(this.options.fetch ?? fetch),
      userAgent: 'replicate-jobs/0.1',
    });
    let result: unknown;
    try {
      result = await operation(client, AbortSignal.timeout(this.options.timeoutMs ?? 10_000));
    } catch (error) {
      throw await failureFrom(error);
    }
    const prediction = PredictionSchema.safeParse(result);
    if (!prediction.success)
      throw new ReplicateFailure('unavailable', 'Replicate answered with something that is not a prediction');
    return prediction.data;
  }
}

/** Maps what the client threw onto the few outcomes callers act on. */
async function failureFrom(error: unknown): Promise<ReplicateFailure> {
  const response = (error as { response?: Response }).response;
  if (!(response instanceof Response)) {
    const timedOut = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError';
    return new ReplicateFailure(
      'unavailable',
      timedOut ? 'Replicate did not answer in time' : 'Replicate could not be reached',
    );
  }
  const detail = parseDetail((error as Error).message);
  const status = response.status;
  if (status === THROTTLED || status === 429) {
    return new ReplicateFailure(
      'rate_limited',
      'Replicate is rate limiting requests',
      429,
      detail,
      retryAfterSeconds(response),
    );
  }
  if (status === 401 || status === 403)
    return new ReplicateFailure('auth_failed', 'Replicate refused our API token', status);
  if (status === 404)
    return new ReplicateFailure(
      'not_found',
      'Replicate does not know this model, version or prediction',
      status,
      detail,
    );
  if (status === 400 || status === 409 || status === 422) {
    return new ReplicateFailure('rejected', 'Replicate refused the input', status, detail);
  }
  return new ReplicateFailure('unavailable', `Replicate answered ${status}`, status);
}

/** The client puts the response text in its error message after the status; Replicate's body is JSON. */
function parseDetail(message: string): unknown {
  const start = message.indexOf(': {');
  if (start < 0) return undefined;
  try {
    const body = JSON.parse(message.slice(start + 2).replace(/\.$/, ''));
    return body.detail ?? body.title ?? body;
  } catch {
    return undefined;
  }
}

function retryAfterSeconds(response: Response): number {
  const header = response.headers.get('retry-after');
  const seconds = header ? Number(header) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = header ? Date.parse(header) : NaN;
  return Number.isNaN(date) ? 1 : Math.max(1, Math.ceil((date - Date.now()) / 1000));
}

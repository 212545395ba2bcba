import type { ServerResponse } from 'node:http';
import { json } from './http';
import {
  cancelPrediction,
  deadlineReached,
  type LifecycleContext,
  newPrediction,
  runPrediction,
  type SimulatedPrediction,
  succeedAtOnce,
} from './lifecycle';
import { readScenario, type Scenario } from './scenario';
import type { WebhookSender } from './webhook-sender';

/** What the API needs from the simulator around it. */
export interface PredictionsApiContext extends LifecycleContext {
  predictions: Map<string, SimulatedPrediction>;
  /** The scenario of each prediction, read from its input once, when it is created. */
  scenarios: Map<string, Scenario>;
  sender: WebhookSender;
  /** The signing secret(s) setting: `GET /webhooks/default/secret` answers its first entry. */
  webhookSecret: string;
  /** Base URL of the API (`…/v1`), known once the server listens. */
  apiBaseUrl(): string;
  /** Creates allowed in any one second, as Replicate limits an account; more are answered 429. Unset: no limit. */
  createsPerSecond?: number;
  /** Creates answered 429 for the rate so far. */
  throttled: { count: number };
  /** Every create request: its path (a version's, a model's, a deployment's) and its `Cancel-After` header. */
  creates: Array<{ path: string; cancelAfter?: string }>;
  /** What each prediction with `fetchInputs` downloaded from its input's URLs. */
  inputFetches: Map<string, InputFetch[]>;
}

/** One URL of a prediction's input, downloaded as Replicate downloads inputs. */
export interface InputFetch {
  url: string;
  status: number;
  bytes: Buffer;
}

/** Downloads every http(s) URL found in the input (depth first); a URL that cannot be reached answers status 0. */
async function fetchInputs(input: Record<string, unknown>): Promise<InputFetch[]> {
  const urls: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string' && /^https?:\/\//.test(value)) urls.push(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(input);
  return Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(url);
        return { url, status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
      } catch {
        return { url, status: 0, bytes: Buffer.alloc(0) };
      }
    }),
  );
}

interface CreateRequest {
  version?: string;
  input?: Record<string, unknown>;
  webhook?: string;
  webhook_events_filter?: string[];
}

const CREATE_PATH =
  /^\/predictions$|^\/models\/([^/]+\/[^/]+)\/predictions$|^\/deployments\/([^/]+\/[^/]+)\/predictions$/;
const PREDICTION_PATH = /^\/predictions\/([^/]+)(\/cancel)?$/;
/** The title of Replicate's 422 answers; the app passes their `detail` on to its client. */
const REFUSED_INPUT = 'Input validation failed';

/**
 * The part of Replicate's HTTP API that the app calls, after the `/v1` prefix: create a prediction (for a version,
 * or for a model by name), read it, cancel it, and read the account's webhook signing secret. Every call needs a
 * bearer token (any will do).
 */
export class PredictionsApi {
  /** Reads of each prediction so far, for the scenario's `getFailures`. */
  private readonly reads = new Map<string, number>();
  /** When the creates of the last second were accepted (the rate limit's sliding window). */
  private recentCreates: number[] = [];

  constructor(private readonly simulator: PredictionsApiContext) {}

  async answer(
    method: string,
    path: string,
    body: string,
    authorization: string,
    res: ServerResponse,
    headers: Record<string, string | string[] | undefined> = {},
  ) {
    if (!/^Bearer .+/.test(authorization)) return json(res, 401, { detail: 'Unauthenticated' });
    if (method === 'GET' && path === '/webhooks/default/secret') {
      return json(res, 200, { key: this.simulator.webhookSecret.split(',')[0] });
    }
    const create = method === 'POST' ? CREATE_PATH.exec(path) : null;
    if (create) {
      const cancelAfter = typeof headers['cancel-after'] === 'string' ? headers['cancel-after'] : undefined;
      this.simulator.creates.push({ path, cancelAfter });
      return this.create(create[1], body, res, { deployment: create[2], cancelAfter });
    }
    const match = PREDICTION_PATH.exec(path);
    const prediction = match ? this.simulator.predictions.get(match[1]) : undefined;
    if (!match || !prediction) return json(res, 404, { detail: 'Not found.' });
    if (method === 'GET' && !match[2]) return this.read(prediction, res);
    if (method === 'POST' && match[2]) {
      cancelPrediction(prediction, this.simulator);
      return json(res, 200, prediction);
    }
    return json(res, 405, { detail: 'Method not allowed' });
  }

  /** Creates a prediction, unless its scenario refuses it (and then as Replicate refuses: 429, 422, 503). */
  private async create(
    model: string | undefined,
    rawBody: string,
    res: ServerResponse,
    options: { deployment?: string; cancelAfter?: string } = {},
  ) {
    let request: CreateRequest;
    try {
      request = JSON.parse(rawBody);
    } catch {
      return json(res, 400, { detail: 'Invalid JSON' });
    }
    const input = request.input;
    if (!input || typeof input !== 'object') return json(res, 422, { detail: 'input is required' });
    const read = readScenario(input);
    if ('problem' in read) return json(res, 422, { title: REFUSED_INPUT, detail: read.problem });
    let { scenario } = read;
    if (scenario.rateLimit) return json(res, 429, { detail: 'Request was throttled.' }, { 'retry-after': '7' });
    if (!this.withinRate()) {
      this.simulator.throttled.count++;
      return json(
        res,
        429,
        { detail: 'Request was throttled. Expected available in 1 second.' },
        { 'retry-after': '1' },
      );
    }
    if (scenario.reject !== undefined) return json(res, 422, { title: REFUSED_INPUT, detail: scenario.reject });
    if (scenario.createFails === 'before_creating') return json(res, 503, { detail: 'Service unavailable' });

    const prediction = newPrediction(
      { ...request, model: model ?? (options.deployment ? `deployment:${options.deployment}` : undefined), input },
      this.simulator.apiBaseUrl(),
    );
    const deadlineMs = durationMs(options.cancelAfter);
    if (deadlineMs !== undefined) this.simulator.later(deadlineMs, () => deadlineReached(prediction, this.simulator));
    if (scenario.fetchInputs) {
      const fetched = await fetchInputs(input);
      this.simulator.inputFetches.set(prediction.id, fetched);
      const failed = fetched.find((each) => each.status !== 200);
      if (failed) scenario = { ...scenario, fail: `Could not download input ${failed.url}: ${failed.status}` };
    }
    this.simulator.predictions.set(prediction.id, prediction);
    this.simulator.scenarios.set(prediction.id, scenario);
    if (scenario.webhookBeforeResponse) {
      succeedAtOnce(prediction, scenario, this.simulator);
      if (prediction.webhook) await this.simulator.sender.send(prediction.id, 'completed', { retry: true });
      await new Promise((resolve) => setTimeout(resolve, scenario.responseDelayMs));
      return json(res, 201, prediction);
    }
    runPrediction(prediction, scenario, this.simulator);
    if (scenario.createFails === 'after_creating') return json(res, 503, { detail: 'Service unavailable' });
    return json(res, 201, prediction);
  }

  /** A sliding one-second window of accepted creates, at most `createsPerSecond` in it. */
  private withinRate(): boolean {
    const limit = this.simulator.createsPerSecond;
    if (limit === undefined) return true;
    const now = Date.now();
    this.recentCreates = this.recentCreates.filter((at) => at > now - 1000);
    if (this.recentCreates.length >= limit) return false;
    this.recentCreates.push(now);
    return true;
  }

  private read(prediction: SimulatedPrediction, res: ServerResponse) {
    const reads = (this.reads.get(prediction.id) ?? 0) + 1;
    this.reads.set(prediction.id, reads);
    const failures = this.simulator.scenarios.get(prediction.id)?.getFailures ?? 0;
    if (reads <= failures) return json(res, 500, { detail: 'Internal error' });
    return json(res, 200, prediction);
  }
}

/** A `Cancel-After` duration as Replicate takes it (`90s`, `5m`, `1h`, `1h30m`), in milliseconds. */
export function durationMs(value: string | undefined): number | undefined {
  if (!value || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  for (const [, amount, , name] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * unit[name as keyof typeof unit];
  return total;
}

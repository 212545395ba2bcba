/**
 * local/simulator/ is a stand-in for Replicate's HTTP API, for the local stack, the tests and the benchmarks; its
 * files import only Node, zod, the webhook signing of `lambdas/core` and each other (never the app's handlers).
 *
 * It creates predictions, moves them through their statuses (lifecycle.ts), serves their output files
 * (file-server.ts, fixtures.ts) and sends webhooks signed exactly as Replicate signs them (webhook-sender.ts);
 * terminal webhooks are retried until they get a 2xx, as Replicate does. What each prediction does is chosen by
 * an optional `simulate` object in its input, described field by field in scenario.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveFile } from './file-server';
import { fileBytes } from './fixtures';
import { json, readText } from './http';
import type { LifecycleContext, SimulatedPrediction } from './lifecycle';
import { type InputFetch, PredictionsApi } from './predictions-api';
import type { Scenario } from './scenario';
import { type SendOptions, type WebhookDelivery, WebhookSender } from './webhook-sender';

export type { SimulatedPrediction } from './lifecycle';
export type { Scenario } from './scenario';
export type { WebhookDelivery } from './webhook-sender';

export interface SimulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The signing secret(s) setting; webhooks are signed with the first. */
  webhookSecret: string;
  /** Default time between status changes. @default 25 */
  stepMs?: number;
  /**
   * Creates accepted in any one second (a sliding window), as Replicate limits an account's creates; above it a
   * create is answered 429 with `Retry-After: 1`. @default no limit
   */
  createsPerSecond?: number;
}

export interface ReplicateSimulator {
  url: string;
  /** Base URL of the API, as `REPLICATE_API_BASE_URL` takes it. */
  apiBaseUrl: string;
  predictions: Map<string, SimulatedPrediction>;
  deliveries: WebhookDelivery[];
  /** Requests served per file path: how often each output was downloaded. */
  downloads: Map<string, number>;
  /** Creates answered 429 because of `createsPerSecond`. */
  throttled: { count: number };
  /** What each prediction created with `simulate.fetchInputs` downloaded from its input's URLs. */
  inputFetches: Map<string, InputFetch[]>;
  /** Every create request: its path (a version's, a model's, a deployment's) and its `Cancel-After` header. */
  creates: Array<{ path: string; cancelAfter?: string }>;
  /** The bytes the simulator serves at a file URL (to compare with stored copies). */
  fileBytes(url: string): Buffer;
  /** Sends a webhook for a prediction now, signed, with the prediction as it currently stands. */
  sendWebhook(id: string, event: string, options?: SendOptions): Promise<number | 'error'>;
  stop(): Promise<void>;
}

export async function startReplicateSimulator(options: SimulatorOptions): Promise<ReplicateSimulator> {
  const host = options.host ?? '127.0.0.1';
  const predictions = new Map<string, SimulatedPrediction>();
  const scenarios = new Map<string, Scenario>();
  const downloads = new Map<string, number>();
  const throttled = { count: 0 };
  const inputFetches = new Map<string, InputFetch[]>();
  const creates: ReplicateSimulator['creates'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sender = new WebhookSender(options.webhookSecret, predictions);
  let url = '';

  const lifecycle: LifecycleContext = {
    stepMs: options.stepMs ?? 25,
    later(ms, action) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        action();
      }, ms);
      timers.add(timer);
    },
    notify: (prediction, event) => sender.notify(prediction, event, scenarios.get(prediction.id)?.webhooks !== false),
    fileUrl: (id, name) => `${url}/files/${id}/${name}`,
  };
  const api = new PredictionsApi({
    ...lifecycle,
    predictions,
    scenarios,
    sender,
    webhookSecret: options.webhookSecret,
    apiBaseUrl: () => `${url}/v1`,
    createsPerSecond: options.createsPerSecond,
    throttled,
    inputFetches,
    creates,
  });

  const files = { scenarioOf: (id: string) => scenarios.get(id), downloads };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v1/, '');
    const body = await readText(req);
    if (path.startsWith('/files/')) return serveFile(path, req, res, files);
    return api.answer(req.method ?? 'GET', path, body, req.headers.authorization ?? '', res, req.headers);
  }
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) json(res, 500, { detail: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  url = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiBaseUrl: `${url}/v1`,
    predictions,
    throttled,
    inputFetches,
    creates,
    deliveries: sender.deliveries,
    downloads,
    fileBytes(fileUrl) {
      const [, , id, name] = new URL(fileUrl).pathname.split('/');
      return fileBytes(id, name, scenarios.get(id)?.sizeBytes, scenarios.get(id)?.imageSize);
    },
    sendWebhook: (id, event, sendOptions) => sender.send(id, event, sendOptions),
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import Replicate from 'replicate';
import { MemoryMetrics } from '../lambdas/adapters/powertools-metrics';
import { StaticSecrets } from '../lambdas/adapters/secrets';
import type { Log } from '../lambdas/core/log';
import { buildApiHandlers } from '../lambdas/handlers/api-function';
import { consumePredictions } from '../lambdas/handlers/consume-predictions';
import { deliverCallbacks } from '../lambdas/handlers/deliver-callbacks';
import { reconcile } from '../lambdas/handlers/reconcile';
import type { Dependencies } from '../lambdas/handlers/dependencies';
import { createDependencies } from '../lambdas/runtime/create-dependencies';
import { DEFAULT_REPLICATE_API_BASE_URL, ENV, readSettings, splitList } from '../lambdas/runtime/settings';
import { startEmulators, type Emulators } from './emulators';
import { startHttpServer } from './http-server';
import { withProgress } from './progress';
import { startQueuePoller } from './queue-poller';
import { startReplicateSimulator, type ReplicateSimulator } from './replicate-simulator';

/** The local stack's settings: the contract's environment variables (DESIGN.md "Local default"). */
export interface LocalStackOptions {
  port?: number;
  host?: string;
  /** A real (or compatible) Replicate: when neither this nor `replicateApiBaseUrl` is set, the simulator runs. */
  replicateApiToken?: string;
  replicateApiBaseUrl?: string;
  webhookSecret?: string;
  publicUrl?: string;
  /** `owner=key,owner2=key2`. */
  apiKeys?: string;
  outputHosts?: string;
  maxOutputBytes?: number;
  /** Time between the simulator's status changes. */
  simulatorStepMs?: number;
  /** Seconds a failed message waits before it is received again. */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount?: number;
  /** How often the reconciler runs (`RECONCILE_INTERVAL_SECONDS`); 0 turns it off. */
  reconcileIntervalSeconds?: number;
  /** Prints a line per job status change (the `npm start` live view). */
  progress?: (line: string) => void;
  log?: Log;
  /** Extra environment-style settings for the handlers (see lambdas/runtime/settings.ts). */
  env?: Record<string, string | undefined>;
}

export interface LocalStack {
  url: string;
  apiKeys: Map<string, string>;
  devApiKey: string;
  webhookSecret: string;
  simulator?: ReplicateSimulator;
  emulators: Emulators;
  deps: Dependencies;
  metrics: MemoryMetrics;
  stop(): Promise<void>;
}

export const DEV_OWNER = 'dev';

/** Starts everything `npm start` runs: emulators, simulator, HTTP API and queue poller, all in this process. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? new Logger({ serviceName: 'replicate-jobs-local' });
  const host = options.host ?? '127.0.0.1';
  const apiKeys = parseApiKeys(options.apiKeys);
  const useSimulator = !options.replicateApiToken && !options.replicateApiBaseUrl;
  const replicateApiToken = options.replicateApiToken || 'local-simulator-token';
  const webhookSecret =
    options.webhookSecret ||
    (useSimulator
      ? `whsec_${randomBytes(24).toString('base64')}`
      : await fetchWebhookSecret(replicateApiToken, options.replicateApiBaseUrl));
  const emulators = await startEmulators({
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
    maxReceiveCount: options.maxReceiveCount,
  });
  const simulator = useSimulator
    ? await startReplicateSimulator({ webhookSecret, host, stepMs: options.simulatorStepMs })
    : undefined;

  // The API's port must be known before the handlers are built (it is the webhook's base URL), so listen first.
  let handlers: ReturnType<typeof buildApiHandlers> | undefined;
  const server = await startHttpServer({
    handlers: new Proxy({} as ReturnType<typeof buildApiHandlers>, { get: (_, name: string) => handlers![name as keyof typeof handlers] }),
    apiKeys,
    port: options.port ?? 3000,
    host,
    extra: serveConsole,
  });
  const settings = readSettings({
    ...options.env,
    [ENV.tableName]: emulators.resources.tableName,
    [ENV.bucketName]: emulators.resources.bucketName,
    [ENV.queueUrl]: emulators.resources.queueUrl,
    [ENV.callbackQueueUrl]: emulators.resources.callbackQueueUrl,
    // Locally, callbacks may go to plain http on this machine (a test receiver, a dev server).
    [ENV.callbackHttpsOnly]: 'false',
    [ENV.replicateBaseUrl]: simulator?.apiBaseUrl ?? options.replicateApiBaseUrl,
    [ENV.outputHosts]: options.outputHosts,
    [ENV.maxOutputBytes]: options.maxOutputBytes ? String(options.maxOutputBytes) : options.env?.[ENV.maxOutputBytes],
    [ENV.publicUrl]: options.publicUrl || server.url,
  });
  const metrics = new MemoryMetrics();
  const deps = createDependencies({
    settings,
    clients: emulators.clients,
    secrets: new StaticSecrets({
      apiToken: replicateApiToken,
      webhookSecret,
      callbackKey: options.env?.CALLBACK_SIGNING_KEY || randomBytes(32).toString('base64'),
    }),
    log,
    metrics,
    allowLocalOutputs: true,
  });
  if (options.progress) deps.jobs = withProgress(deps.jobs, options.progress);
  handlers = buildApiHandlers(deps);
  const reconciler = startReconcilerTimer(deps, options.reconcileIntervalSeconds ?? 60);
  const poller = startQueuePoller({
    sqs: emulators.clients.sqs,
    queueUrl: emulators.resources.queueUrl,
    consumer: consumePredictions(deps),
    concurrency: 10, // the construct's default consumerMaxConcurrency
    onError: (error) => log.error('queue poller error', { error }),
  });
  const callbackPoller = startQueuePoller({
    sqs: emulators.clients.sqs,
    queueUrl: emulators.resources.callbackQueueUrl,
    consumer: deliverCallbacks(deps),
    onError: (error) => log.error('callback poller error', { error }),
  });

  return {
    url: server.url,
    apiKeys,
    devApiKey: [...apiKeys.entries()].find(([, owner]) => owner === DEV_OWNER)?.[0] ?? [...apiKeys.keys()][0],
    webhookSecret,
    simulator,
    emulators,
    deps,
    metrics,
    async stop() {
      await reconciler.stop();
      await poller.stop();
      await callbackPoller.stop();
      await server.stop();
      await simulator?.stop();
      await emulators.stop();
    },
  };
}

/** The job console (a static page over the same API), local only: GET /console. */
const CONSOLE_PAGE = readFileSync(join(__dirname, 'console.html'));
function serveConsole(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://local').pathname !== '/console') return false;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; img-src * data:; media-src *; script-src 'unsafe-inline'; style-src 'unsafe-inline'" });
  res.end(CONSOLE_PAGE);
  return true;
}

/** Runs the reconciler every `intervalSeconds`, never two runs at once (EventBridge's schedule, locally). */
function startReconcilerTimer(deps: Dependencies, intervalSeconds: number): { stop(): Promise<void> } {
  if (intervalSeconds <= 0) return { stop: async () => undefined };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => reconcile(deps)().catch((error) => deps.log.error('reconciler failed', { error })));
  }, intervalSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** With a real Replicate and no REPLICATE_WEBHOOK_SECRET, the account's signing secret is asked for once. */
async function fetchWebhookSecret(token: string, baseUrl: string | undefined): Promise<string> {
  try {
    const replicate = new Replicate({ auth: token, baseUrl: baseUrl || DEFAULT_REPLICATE_API_BASE_URL });
    return ((await replicate.webhooks.default.secret.get()) as { key: string }).key;
  } catch (error) {
    throw new Error(`REPLICATE_WEBHOOK_SECRET is not set and fetching it from Replicate failed: ${(error as Error).message}`);
  }
}

/** `owner=key,owner2=key2` → key → owner. Without a setting, one dev key is made up (and printed at start). */
export function parseApiKeys(setting: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of splitList(setting)) {
    const [owner, key] = pair.split('=').map((part) => part?.trim());
    if (!owner || !key || !/^[A-Za-z0-9_-]{1,64}$/.test(owner)) {
      throw new Error(`API_KEYS entries are owner=key with owner made of letters, digits, _ and -: "${pair}"`);
    }
    keys.set(key, owner);
  }
  if (keys.size === 0) keys.set(`dev-${randomBytes(12).toString('hex')}`, DEV_OWNER);
  return keys;
}

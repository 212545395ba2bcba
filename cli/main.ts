/** cli/: the `replicate-jobs` command line client of the REST API. Imports only Node and itself. */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { ApiFailure, JobsClient, type JobView } from './api-client';
import { uploadFile } from './upload-file';
import { usageTable } from './usage-table';
import { jobUpdates } from './watch-job';

const USAGE = `replicate-jobs <command> [options]

  submit <model> [key=value ...] [--input JSON] [--metadata JSON] [--idempotency-key K] [--watch]
         [--derivatives JSON] [--retention-days N] [--webhook-events start,output,logs,completed]
                                     key=@path uploads the file; the input gets its upload: reference
  status <job-id>
  watch <job-id>                     live status (the job's event stream) until the job ends
  download <job-id> [--out DIR]      the job's output files, with progress
  list [--status S] [--limit N] [--cursor C]
  cancel <job-id>
  delete <job-id>                    the job and everything stored for it
  usage [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                                     jobs, predict seconds and estimated cost per day (default: the last 30 days)

Options: --url (or REPLICATE_JOBS_URL, default http://127.0.0.1:3000), --key (or REPLICATE_JOBS_API_KEY),
         --json (machine-readable output), --interval MS (watch polling if streams break, default 1000)
Exit codes: 0 done (job succeeded), 1 the job failed or was canceled, 2 usage error, 3 the API refused.`;

const EXIT = { ok: 0, jobFailed: 1, usage: 2, api: 3 } as const;
const TERMINAL = ['succeeded', 'failed', 'canceled'];

class UsageError extends Error {}

/** A JSON option's value, or a usage error naming the option. */
function jsonOption(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Uploads a local file; a file that cannot be read or typed is the caller's mistake (exit 2), not the API's. */
async function uploadLocalFile(client: JobsClient, path: string, quiet: boolean): Promise<string> {
  try {
    return await uploadFile(client, path, quiet);
  } catch (error) {
    if (error instanceof ApiFailure) throw error;
    throw new UsageError((error as Error).message);
  }
}

/**
 * `key=value` pairs become input fields; values that parse as JSON (numbers, true, arrays) are taken as JSON, and
 * `key=@path` uploads the file at `path` (`upload` answers its reference).
 */
async function parsePairs(
  pairs: string[],
  upload: (path: string) => Promise<string>,
): Promise<Record<string, unknown>> {
  const fields: Array<[string, unknown]> = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`not a key=value pair: ${pair}`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    if (raw.startsWith('@') && raw.length > 1) value = await upload(raw.slice(1));
    else {
      try {
        value = JSON.parse(raw);
      } catch {
        // plain text
      }
    }
    fields.push([pair.slice(0, at), value]);
  }
  return Object.fromEntries(fields);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
      input: { type: 'string' },
      metadata: { type: 'string' },
      derivatives: { type: 'string' },
      'retention-days': { type: 'string' },
      'webhook-events': { type: 'string' },
      'idempotency-key': { type: 'string' },
      watch: { type: 'boolean', default: false },
      out: { type: 'string', default: '.' },
      status: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      interval: { type: 'string', default: '1000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const key = values.key ?? process.env.REPLICATE_JOBS_API_KEY;
  if (!key) throw new UsageError('an API key is needed: --key or REPLICATE_JOBS_API_KEY');
  const client = new JobsClient(values.url ?? process.env.REPLICATE_JOBS_URL ?? 'http://127.0.0.1:3000', key);
  const print = (job: JobView, human: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(job)}\n` : `${human}\n`);
  const needId = () =>
    rest[0] ??
    (() => {
      throw new UsageError(`${command} needs a job id`);
    })();
  const interval = Number(values.interval);
  if (!Number.isInteger(interval) || interval < 10)
    throw new UsageError('--interval must be whole milliseconds, 10 or more');

  switch (command) {
    case 'submit': {
      const [model, ...pairs] = rest;
      if (!model) throw new UsageError('submit needs a model: owner/name[:version]');
      const pairsInput = await parsePairs(pairs, (path) => uploadLocalFile(client, path, values.json));
      const input = { ...((jsonOption('input', values.input) as object | undefined) ?? {}), ...pairsInput };
      const job = await client.submit(
        {
          model,
          input,
          ...(values.metadata ? { metadata: jsonOption('metadata', values.metadata) } : {}),
          ...(values.derivatives ? { derivatives: jsonOption('derivatives', values.derivatives) } : {}),
          ...(values['retention-days'] ? { retentionDays: Number(values['retention-days']) } : {}),
          ...(values['webhook-events'] ? { webhookEvents: values['webhook-events'].split(',') } : {}),
        },
        values['idempotency-key'],
      );
      if (!values.watch) {
        print(job, `${job.id} ${job.status}`);
        return EXIT.ok;
      }
      return watch(client, job.id, values.json, interval);
    }
    case 'status': {
      const job = await client.get(needId());
      print(job, describe(job));
      return exitFor(job);
    }
    case 'watch':
      return watch(client, needId(), values.json, interval);
    case 'download':
      return download(client, needId(), values.out, values.json);
    case 'list': {
      const page = await client.list({
        status: values.status,
        limit: values.limit ? Number(values.limit) : undefined,
        cursor: values.cursor,
      });
      if (values.json) process.stdout.write(`${JSON.stringify(page)}\n`);
      else {
        for (const job of page.jobs)
          process.stdout.write(`${job.id}  ${job.status.padEnd(10)} ${job.model}  ${job.createdAt}\n`);
        if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
      }
      return EXIT.ok;
    }
    case 'cancel': {
      const job = await client.cancel(needId());
      print(job, `${job.id} ${job.status}`);
      return EXIT.ok;
    }
    case 'delete': {
      const id = needId();
      await client.request('DELETE', `/jobs/${encodeURIComponent(id)}`);
      process.stdout.write(values.json ? `${JSON.stringify({ id, deleted: true })}\n` : `${id} deleted\n`);
      return EXIT.ok;
    }
    case 'usage': {
      const report = await client.usage({ from: values.from, to: values.to });
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : usageTable(report));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

function describe(job: JobView): string {
  const lines = [`${job.id}  ${job.status}  ${job.model}`];
  if (job.error) lines.push(`error: ${job.error.code}: ${job.error.message}`);
  for (const output of job.outputs) lines.push(`  ${output.key}  ${output.contentType}  ${output.size} bytes`);
  if (job.outputs.length === 0 && job.output !== null && job.status === 'succeeded')
    lines.push(`output: ${JSON.stringify(job.output).slice(0, 500)}`);
  return lines.join('\n');
}

const exitFor = (job: JobView) =>
  job.status === 'succeeded' || !TERMINAL.includes(job.status) ? EXIT.ok : EXIT.jobFailed;

/**
 * Follows the job until it ends (its event stream; polling if streams keep breaking): on a terminal one line redrawn in
 * place (cleared, cut to the terminal's width, the spinner and time ticking between events) with the output so far of
 * a model that streams it; one line per status otherwise; or a JSON line per change.
 */
async function watch(client: JobsClient, id: string, json: boolean, intervalMs: number): Promise<number> {
  const started = Date.now();
  const tty = process.stdout.isTTY && !json;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let current: JobView | undefined;
  let tick = 0;
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
  const redraw = () => {
    if (!current) return;
    const line = `${frames[tick++ % frames.length]} ${id}  ${current.status.padEnd(10)} ${elapsed()} s  ${partialText(current.partialOutput)}`;
    process.stdout.write(`\r\x1b[2K${line.slice(0, Math.max(20, (process.stdout.columns ?? 80) - 1))}`);
  };
  const ticker = tty ? setInterval(redraw, 100) : undefined;
  try {
    for await (const job of jobUpdates(client, id, intervalMs)) {
      if (json) process.stdout.write(`${JSON.stringify(job)}\n`);
      else if (!tty && job.status !== current?.status) process.stdout.write(`${id}  ${job.status}  ${elapsed()} s\n`);
      current = job;
      if (tty) redraw();
      if (TERMINAL.includes(job.status)) {
        if (tty) process.stdout.write(`\r\x1b[2K${job.status === 'succeeded' ? '✔' : '✖'} ${describe(job)}\n`);
        else if (!json) process.stdout.write(`${describe(job)}\n`);
        return exitFor(job);
      }
    }
    return EXIT.ok; // not reached: updates end with a terminal job
  } finally {
    clearInterval(ticker);
  }
}

/** The tail of a streamed output (a language model's tokens), to fit one line. */
function partialText(partial: unknown): string {
  if (partial === null || partial === undefined) return '';
  const text = Array.isArray(partial) ? partial.join('') : JSON.stringify(partial);
  return text.replace(/\s+/g, ' ').slice(-40);
}

/** Downloads every output of a succeeded job into `dir`, named after its key, with a progress line each. */
async function download(client: JobsClient, id: string, dir: string, json: boolean): Promise<number> {
  const job = await client.get(id);
  if (job.status !== 'succeeded') {
    process.stderr.write(`job ${id} is ${job.status}: nothing to download yet\n`);
    return TERMINAL.includes(job.status) ? EXIT.jobFailed : EXIT.usage;
  }
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const output of job.outputs) {
    const file = join(dir, output.key.split('/').slice(-2).join('-'));
    const response = await fetch(output.url);
    if (!response.ok || !response.body)
      throw new ApiFailure(response.status, 'download_failed', `downloading ${output.key} answered ${response.status}`);
    let received = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (!json && process.stdout.isTTY)
          process.stdout.write(`\r${file}  ${Math.floor((100 * received) / Math.max(1, output.size))}%`);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream), progress, createWriteStream(file));
    if (!json) process.stdout.write(`${process.stdout.isTTY ? '\r' : ''}${file}  ${received} bytes\n`);
    files.push(file);
  }
  if (json) process.stdout.write(`${JSON.stringify({ id, files })}\n`);
  return EXIT.ok;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exit(EXIT.usage);
    }
    if (error instanceof ApiFailure) {
      process.stderr.write(
        `${error.status} ${error.code}: ${error.message}${error.retryAfter ? ` (retry after ${error.retryAfter} s)` : ''}\n`,
      );
      process.exit(EXIT.api);
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT.api);
  },
);

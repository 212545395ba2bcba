import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/local-stack';

const CLI = join(__dirname, '..', '..', 'cli', 'replicate-jobs.cjs');

/** The CLI as a person runs it: a separate process, talking to the running local stack over HTTP. */
describe('replicate-jobs CLI (local stack)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.stop());

  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, REPLICATE_JOBS_URL: stack.url, REPLICATE_JOBS_API_KEY: 'key-alice', ...env } },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });

  it('submits with key=value input, watches to completion and downloads the outputs', async () => {
    const submitted = await run([
      'submit',
      'black-forest-labs/flux-schnell',
      'prompt=a cat',
      'simulate={"output":"images","count":2}',
      '--json',
    ]);
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.stdout);
    expect(job).toMatchObject({ status: 'queued', model: 'black-forest-labs/flux-schnell' });

    const watched = await run(['watch', job.id, '--interval', '50']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`${job.id}  succeeded`));

    const out = mkdtempSync(join(tmpdir(), 'cli-'));
    const downloaded = await run(['download', job.id, '--out', out]);
    expect(downloaded.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual([`${job.id}-0.png`, `${job.id}-1.png`]);
    const prediction = stack.simulator!.predictions.get(job.predictionId)!;
    const urls = prediction.output as string[];
    for (const [i, file] of files.entries()) {
      expect(readFileSync(join(out, file)).equals(stack.simulator!.fileBytes(urls[i]))).toBe(true);
    }
  });

  it('key=@path uploads the file and the model receives a URL serving its bytes; delete removes the job', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'ref.png');
    const bytes = Buffer.concat([
      readFileSync(join(__dirname, '..', '..', 'local', 'simulator', 'fixtures', 'image.png')),
    ]);
    writeFileSync(file, bytes);
    const submitted = await run(['submit', 'a/b', `image=@${file}`, 'simulate={"fetchInputs":true}', '--json']);
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.stdout);
    const fetched = stack.simulator!.inputFetches.get(job.predictionId)!;
    expect(fetched).toHaveLength(1);
    expect(fetched[0].bytes.equals(bytes)).toBe(true);
    expect((await stack.request(`/jobs/${job.id}`)).json.predictionId).toBe(job.predictionId);

    // The caller's own mistakes are usage errors (exit 2), found before anything is sent.
    const unknownType = await run(['submit', 'a/b', `image=@${file}.exe`]);
    expect(unknownType.code).toBe(2);
    expect(unknownType.stderr).toContain('cannot tell its type');
    const missing = await run(['submit', 'a/b', `image=@${file}.missing.png`]);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('ENOENT') });
    const badJson = await run(['submit', 'a/b', '--derivatives', 'notjson']);
    expect(badJson).toMatchObject({ code: 2, stderr: expect.stringContaining('--derivatives is not valid JSON') });

    const deleted = await run(['delete', job.id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `${job.id} deleted\n` });
    expect((await stack.request(`/jobs/${job.id}`)).status).toBe(404);
  });

  it('submit --watch exits 1 when the job fails, and status says why', async () => {
    const failed = await run([
      'submit',
      'a/b',
      '--input',
      '{"simulate":{"fail":"CUDA out of memory"}}',
      '--watch',
      '--interval',
      '50',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/error: prediction_failed: CUDA out of memory/);
  });

  it("submit --webhook-events with output --watch --json follows the event stream: a line per change, the model's tokens growing", async () => {
    const watched = await run([
      'submit',
      'a/llm',
      '--input',
      '{"simulate":{"output":"tokens","tokens":4,"partialOutputs":true,"stepMs":1200}}',
      '--webhook-events',
      'start,output,completed',
      '--watch',
      '--json',
    ]);
    expect(watched.code).toBe(0);
    const lines = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const partials = lines.map((job) => job.partialOutput).filter((partial) => partial !== null);
    expect(partials.length).toBeGreaterThanOrEqual(2);
    expect(partials.at(-1).length).toBeGreaterThan(partials[0].length);
    expect(lines.at(-1)).toMatchObject({ status: 'succeeded', output: [' token0', ' token1', ' token2', ' token3'] });
  });

  it('lists and cancels, with --json for scripts', async () => {
    const job = JSON.parse(
      (await run(['submit', 'a/b', 'simulate={"webhooks":false,"stepMs":3600000}', '--json'])).stdout,
    );
    const list = JSON.parse((await run(['list', '--limit', '5', '--json'])).stdout);
    expect(list.jobs.map((j: { id: string }) => j.id)).toContain(job.id);
    const canceled = await run(['cancel', job.id]);
    expect(canceled).toMatchObject({ code: 0, stdout: `${job.id} canceled\n` });
  });

  it('exits 3 with the API error code when the API refuses, and 2 on usage errors', async () => {
    const refused = await run(['status', 'job_00000000000000000000000000']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/404 not_found/);
    expect((await run(['status', 'x'], { REPLICATE_JOBS_API_KEY: 'wrong' })).stderr).toMatch(/401 unauthorized/);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['submit', 'a/b', 'no-equals-sign'])).code).toBe(2);
    // Not a number: it would have polled in a busy loop (found by a trial).
    expect((await run(['watch', 'job_x', '--interval', 'abc'])).code).toBe(2);
  });
});

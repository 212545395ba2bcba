import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startTestStack, type TestStack } from '../support/local-stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, '..', '..', 'test-output', 'console.png');

/**
 * The job console in headless Chromium (Debian's), driving the real local stack as a person would. CI
 * (.ci/run, CI=true) installs Chromium and requires this test; on a machine without Chromium, `npm test`
 * skips it and says so, instead of failing a newcomer's first run.
 */
const required = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!required) process.stdout.write(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)\n`);

(required ? describe : describe.skip)('job console (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    stack = await startTestStack({ simulatorStepMs: 150 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("submits a job, shows it going to succeeded, previews its image output, and lists only the owner's jobs", async () => {
    const other = await stack.submit({ model: 'bob/secret-model', input: {} }, { key: 'key-bob' });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${stack.url}/console?key=key-alice`);
    await page.fill('#model', 'black-forest-labs/flux-schnell');
    await page.fill('#input', JSON.stringify({ prompt: 'a lighthouse', simulate: { output: 'images', count: 2 } }));
    await page.click('button[type=submit]');
    await page.waitForSelector('#message:has-text("Submitted job_")');
    const id = (await page.textContent('#message'))!.replace('Submitted ', '');

    await page.waitForSelector(`tr[data-job="${id}"][data-status="succeeded"]`, { timeout: 15_000 });
    await page.click(`tr[data-job="${id}"]`);
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll('#detail img')] as HTMLImageElement[];
      return images.length === 2 && images.every((image) => image.complete && image.naturalWidth > 0);
    });
    expect(await page.textContent('#detail')).toContain('succeeded');
    expect(await page.$(`tr[data-job="${other.id}"]`)).toBeNull();

    // Input that is not JSON is caught on the page; a model the API refuses shows the API's error code.
    await page.fill('#input', '{"prompt": ');
    await page.click('button[type=submit]');
    await page.waitForSelector('#message.error');
    await page.fill('#input', '{}');
    await page.fill('#model', 'not a model');
    await page.click('button[type=submit]');
    await page.waitForSelector('#message.error:has-text("validation_failed")');

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.fill('#input', JSON.stringify({ prompt: 'a lighthouse' }));
    await page.click(`tr[data-job="${id}"]`);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`console screenshot: ${SCREENSHOT}\n`);
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 60_000);

  it('uploads a chosen file straight to the bucket and submits its reference; the model receives its bytes', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.url}/console?key=key-alice`);
    const bytes = readFileSync(join(__dirname, '..', '..', 'local', 'simulator', 'fixtures', 'image.png'));
    await page.setInputFiles('#file', { name: 'ref.png', mimeType: 'image/png', buffer: bytes });
    await page.fill('#fileField', 'image');
    await page.fill('#input', JSON.stringify({ prompt: 'restyle', simulate: { fetchInputs: true } }));
    await page.click('button[type=submit]');
    await page.waitForSelector('#message:has-text("Submitted job_")', { timeout: 15_000 });
    const id = (await page.textContent('#message'))!.replace('Submitted ', '');
    const job = (await stack.request(`/jobs/${id}`)).json;
    expect(job.predictionId).toBeTruthy();
    const fetched = stack.simulator!.inputFetches.get(job.predictionId)!;
    expect(fetched[0].bytes.equals(bytes)).toBe(true);
  }, 60_000);

  it('takes the API key out of the address, sends no referrer, and allows only its own script', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${stack.url}/console?key=key-alice`);
    const headers = response!.headers();
    expect(headers['referrer-policy']).toBe('no-referrer');
    const policy = headers['content-security-policy'];
    expect(policy).toMatch(/script-src 'sha256-[^']+'/);
    expect(policy).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|(img|media)-src \*/);
    await page.waitForFunction(() => !location.search.includes('key'));
    expect(page.url()).toBe(`${stack.url}/console`);
    // The key still works: the page lists the owner's jobs.
    await page.waitForSelector('tr[data-job]');
    // Anything but the page's own script is refused.
    expect(
      await page.evaluate(() => {
        const injected = document.createElement('script');
        injected.textContent = 'document.body.dataset.injected = "1"';
        document.body.append(injected);
        return document.body.dataset.injected;
      }),
    ).toBeUndefined();
  }, 60_000);

  it("charts the owner's usage of the last 30 days: a bar per day, stacked by outcome, and the totals", async () => {
    const failed = await stack.submit({ model: 'a/b', input: { simulate: { fail: 'boom' } } }, { key: 'key-bob' });
    await stack.waitFor(failed.id, undefined, { key: 'key-bob' });
    // Every job of bob's has ended and is in the ledger: the chart must show exactly that.
    let usage: any;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      usage = (await stack.request('/usage', { key: 'key-bob' })).json;
      const { submitted, succeeded, failed: failures, canceled } = usage.totals;
      if (failures >= 1 && submitted === succeeded + failures + canceled) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const today = usage.days.at(-1);
    const ended = today.succeeded + today.failed + today.canceled;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${stack.url}/console?key=key-bob`);
    await page.waitForSelector(`#usage-chart g[data-date="${today.date}"][data-ended="${ended}"]`);
    expect(await page.$$eval('#usage-chart g[data-date]', (groups) => groups.length)).toBe(30);
    // Today's bar: one green (succeeded) and one red (failed) part at least; the days without jobs have none.
    const fills = await page.$$eval(`#usage-chart g[data-date="${today.date}"] rect`, (rects) =>
      rects.map((rect) => rect.getAttribute('fill')),
    );
    expect(fills).toEqual(expect.arrayContaining(['#37b24d', '#f03e3e']));
    expect(await page.$$eval(`#usage-chart g[data-ended="0"] rect`, (rects) => rects.length)).toBe(0);
    expect(await page.textContent('#usage-totals')).toContain(`${usage.totals.failed} failed`);
    await page.locator('#usage').screenshot({ path: join(SCREENSHOT, '..', 'console-usage.png') });
  }, 60_000);

  it('shows hostile text from the API as text, never as HTML', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.url}/console?key=key-alice`);
    await page.fill(
      '#input',
      JSON.stringify({ simulate: { fail: '<img src=x onerror="document.body.dataset.pwned=1">' } }),
    );
    await page.click('button[type=submit]');
    const id = (await (await page.waitForSelector('#message:has-text("Submitted")')).textContent())!.replace(
      'Submitted ',
      '',
    );
    await page.waitForSelector(`tr[data-job="${id}"][data-status="failed"]`, { timeout: 15_000 });
    await page.click(`tr[data-job="${id}"]`);
    await page.waitForSelector('#detail .error');
    expect(await page.textContent('#detail .error')).toContain('<img src=x');
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
  }, 60_000);

  it("updates live from the job's event stream: each status and a model's tokens as they come, with no polling of the job", async () => {
    const page = await browser.newPage();
    const jobReads: string[] = [];
    page.on('request', (request) => {
      if (/\/jobs\/job_[^/]+$/.test(new URL(request.url()).pathname)) jobReads.push(request.url());
    });
    await page.goto(`${stack.url}/console?key=key-alice`);
    const job = await stack.submit({
      model: 'acme/llm',
      input: { simulate: { output: 'tokens', tokens: 8, partialOutputs: true, stepMs: 1_200 } },
      webhookEvents: ['start', 'output', 'completed'],
    });
    await page.waitForSelector(`tr[data-job="${job.id}"]`, { timeout: 10_000 });
    await page.click(`tr[data-job="${job.id}"]`);
    await page.waitForSelector('#detail[data-live="stream"]');
    // The output so far, while the job still runs.
    await page.waitForFunction(
      () =>
        document.querySelector('#detail')?.getAttribute('data-status') === 'processing' &&
        (document.querySelector('#output')?.textContent ?? '').includes(' token1'),
      undefined,
      { timeout: 20_000 },
    );
    const partial = JSON.parse((await page.textContent('#output'))!);
    expect(partial.length).toBeLessThan(8);
    await page.waitForSelector('#detail[data-status="succeeded"]', { timeout: 30_000 });
    expect(JSON.parse((await page.textContent('#output'))!)).toHaveLength(8);
    await page.waitForSelector(`tr[data-job="${job.id}"][data-status="succeeded"]`);
    expect(jobReads).toEqual([]); // every update came from the stream
  }, 60_000);

  it('falls back to polling when the event stream keeps breaking, and still shows the job end', async () => {
    const page = await browser.newPage();
    await page.route('**/events', (route) => route.abort('connectionreset'));
    await page.goto(`${stack.url}/console?key=key-alice`);
    const job = await stack.submit({ model: 'a/b', input: { simulate: { stepMs: 1_000 } } });
    await page.waitForSelector(`tr[data-job="${job.id}"]`, { timeout: 10_000 });
    await page.click(`tr[data-job="${job.id}"]`);
    await page.waitForSelector('#detail[data-live="polling"]', { timeout: 10_000 });
    await page.waitForSelector('#detail[data-status="succeeded"]', { timeout: 30_000 });
  }, 60_000);
});

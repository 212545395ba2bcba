import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `npm start` itself, as a person runs it: a child process with an environment, its output and exit code. */
function npmStart(env: Record<string, string>) {
  // Its own process group, so the test can stop npm, tsx and the stack's processes together.
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // 'close': npm has exited and every process holding its output (the stack's own) is gone too.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    output: () => ({ stdout, stderr }),
    exited,
    async listening(timeoutMs: number): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
        if (url) return url;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`npm start did not start:\n${stdout}\n${stderr}`);
    },
    async stop() {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

describe('npm start and REPLICATE_WEBHOOK_SECRET', () => {
  const replicateStyle = `whsec_${randomBytes(32).toString('base64')}`; // as Replicate issues them

  it.each([
    ['a placeholder after a valid secret', `${replicateStyle},UNSET`, 'entry 2 of 2 (missing_prefix)'],
    ['a short key', `whsec_${randomBytes(12).toString('base64')}`, 'entry 1 of 1 (key_too_short)'],
  ])(
    'refuses %s before starting anything, naming the variable and the rule, never the value',
    async (_name, secret, problem) => {
      const start = npmStart({ REPLICATE_WEBHOOK_SECRET: secret });
      const code = await Promise.race([
        start.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000).unref()),
      ]);
      await start.stop();
      const { stdout, stderr } = start.output();
      expect(code).toBe(1);
      expect(stderr).toContain(
        `Could not start the local stack: REPLICATE_WEBHOOK_SECRET: Webhook signing secret refused, ${problem}`,
      );
      expect(stderr).toContain(
        'each comma-separated entry must be whsec_ followed by standard base64 of at least 24 bytes',
      );
      for (const entry of secret.split(',')) expect(stdout + stderr).not.toContain(entry);
    },
  );

  it('refuses an OWNER_LIMITS it cannot use before starting anything, naming the variable and the field', async () => {
    const start = npmStart({ OWNER_LIMITS: JSON.stringify({ default: { maxInFlight: 5, maxRefusalsPerMinute: -1 } }) });
    expect(await start.exited).toBe(1);
    const { stderr } = start.output();
    expect(stderr).toContain('Could not start the local stack: OWNER_LIMITS refused: default.maxPerDay');
    expect(stderr).toContain('default.maxRefusalsPerMinute');
    expect(stderr).not.toContain('cdk synth failed');
  });

  it('starts with a Replicate-style whsec_ value, and refuses a body signed with another key', async () => {
    const start = npmStart({ REPLICATE_WEBHOOK_SECRET: replicateStyle });
    try {
      const url = await start.listening(120_000);
      const body = JSON.stringify({ id: 'p', status: 'succeeded' });
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', Buffer.from('UNSET', 'base64'))
        .update(`msg_start.${timestamp}.${body}`)
        .digest('base64');
      const forged = await fetch(`${url}/webhooks/replicate`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_start',
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${signature}`,
        },
        body,
      });
      expect(forged.status).toBe(401);
      expect(start.output().stdout).not.toContain(replicateStyle.slice('whsec_'.length));
    } finally {
      await start.stop();
    }
  }, 150_000);
});

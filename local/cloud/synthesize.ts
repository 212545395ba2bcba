import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** What the synthesized app depends on: change any of it and the cached cloud assembly is stale. */
const INPUTS = ['bin', 'lib', 'lambdas', 'contract', 'package-lock.json', 'cdk.json', 'tsconfig.json'];
export const STACK_NAME = 'ReplicateJobs';

export interface CloudAssembly {
  /** The cloud assembly directory (a `cdk.out`): the template and one directory per bundled asset. */
  dir: string;
  template: { Resources: Record<string, { Type: string; Properties?: any; Metadata?: any }> };
  /** Whether this run synthesized it (false: a cached assembly of the same sources and context was reused). */
  synthesized: boolean;
}

/**
 * Synthesizes the CDK app exactly as `cdk synth` does (the app command from cdk.json, cdk.json's context plus
 * `context`), into `cdk.out/local/<hash>`. The hash covers the sources and the context, so a warm start with
 * unchanged sources reuses the assembly (bundles included) without running the app.
 */
export async function synthesize(context: Record<string, string>): Promise<CloudAssembly> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
  // What the CDK CLI adds for `cdk synth`: asset metadata names each function's bundle directory.
  const cliContext = {
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:bundling-stacks': ['**'],
  };
  const fullContext = { ...cdkJson.context, ...cliContext, ...context };
  const key = sourceHash(JSON.stringify(Object.entries(fullContext).sort(([a], [b]) => a.localeCompare(b))));
  const dir = join(ROOT, 'cdk.out', 'local', key);
  let synthesized = false;
  if (!existsSync(join(dir, 'manifest.json'))) {
    // Several processes (jest workers) may synthesize the same key: each writes its own directory, first rename wins.
    const scratch = `${dir}.${process.pid}.${Date.now()}`;
    mkdirSync(scratch, { recursive: true });
    await runApp(cdkJson.app, scratch, fullContext);
    try {
      renameSync(scratch, dir);
    } catch {
      rmSync(scratch, { recursive: true, force: true });
    }
    synthesized = true;
    pruneOldAssemblies(join(ROOT, 'cdk.out', 'local'));
  }
  const now = new Date();
  utimesSync(dir, now, now); // last used: what pruning goes by
  const template = JSON.parse(readFileSync(join(dir, `${STACK_NAME}.template.json`), 'utf8'));
  return { dir, template, synthesized };
}

/**
 * Removes assemblies beyond the 10 most recently used that nothing used for an hour (each is about 7 MB of
 * bundles and source maps), so settings tried once do not pile up. A stack still running from one (another
 * test worker's) used it recently, so it stays.
 */
export function pruneOldAssemblies(parent: string, keep = 10, idleMs = 3_600_000) {
  const assemblies = readdirSync(parent)
    .filter((name) => /^[0-9a-f]{16}$/.test(name))
    .map((name) => ({ path: join(parent, name), used: statSync(join(parent, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of assemblies.slice(keep))
    if (old.used < Date.now() - idleMs) rmSync(old.path, { recursive: true, force: true });
}

/** Runs the app the way the CDK CLI does: it reads its output directory and context from these two variables. */
function runApp(command: string, outdir: string, context: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      cwd: ROOT,
      shell: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`cdk synth failed (exit ${code}):\n${stderr}`)),
    );
  });
}

function sourceHash(extra: string): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else {
      hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  for (const input of INPUTS) if (existsSync(join(ROOT, input))) visit(join(ROOT, input));
  return hash.update(extra).digest('hex').slice(0, 16);
}

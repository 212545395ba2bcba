import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** What the synthesized app depends on: change any of it and the cached cloud assembly is stale. */
const INPUTS = ['bin', 'lib', 'lambdas', 'contract', 'package-lock.json', 'cdk.json', 'tsconfig.json'];
export const STACK_NAME = 'ReplicateJobs';

export interface CloudAssembly {
  /** The cloud assembly directory (a `cdk.out`): the template and one directory per bundled asset. */
  dir: string;
  /**
   * Each function's bundle, when this assembly was synthesized without bundling and reuses the bundles of another
   * assembly of the same sources (BUNDLES_FILE): logical id → absolute directory. Absent: the assembly's own assets.
   */
  codeDirs?: Record<string, string>;
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
  const sources = sourceHash();
  const contextJson = JSON.stringify(Object.entries(fullContext).sort(([a], [b]) => a.localeCompare(b)));
  const key = createHash('sha256').update(sources).update(contextJson).digest('hex').slice(0, 16);
  const parent = join(ROOT, 'cdk.out', 'local');
  const dir = join(parent, key);
  let synthesized = false;
  if (!existsSync(join(dir, 'manifest.json'))) {
    // Several processes (jest workers) may synthesize the same key: each writes its own directory, first rename wins.
    const scratch = `${dir}.${process.pid}.${Date.now()}`;
    mkdirSync(scratch, { recursive: true });
    if (!(await synthesizeReusingBundles(cdkJson.app, scratch, fullContext, bundledAssemblyOf(parent, sources)))) {
      await runApp(cdkJson.app, scratch, fullContext);
      writeFileSync(join(parent, `${BUNDLED_PREFIX}${sources}`), key);
    }
    try {
      renameSync(scratch, dir);
    } catch {
      rmSync(scratch, { recursive: true, force: true });
    }
    synthesized = true;
    pruneOldAssemblies(parent);
  }
  const now = new Date();
  utimesSync(dir, now, now); // last used: what pruning goes by
  const template = JSON.parse(readFileSync(join(dir, `${STACK_NAME}.template.json`), 'utf8'));
  const reused = join(dir, BUNDLES_FILE);
  if (!existsSync(reused)) return { dir, template, synthesized };
  const { assembly, codeDirs } = JSON.parse(readFileSync(reused, 'utf8')) as ReusedBundles;
  if (existsSync(assembly)) utimesSync(assembly, now, now); // in use through this one: not pruned
  return { dir, template, synthesized, codeDirs };
}

/** Names, in an assembly synthesized without bundling, the assembly whose bundles its functions run. */
const BUNDLES_FILE = 'local-bundles.json';
/** `bundled-<sources hash>` holds the key of an assembly of those sources synthesized with its bundles. */
const BUNDLED_PREFIX = 'bundled-';

interface ReusedBundles {
  assembly: string;
  codeDirs: Record<string, string>;
}

/**
 * The bundles depend on the sources only, never on the context: a synth that skips bundling (esbuild is most of a
 * synth's time) can run the functions of an assembly of the same sources, when that one has every function. False
 * (and `scratch` emptied) when it cannot.
 */
async function synthesizeReusingBundles(
  app: string,
  scratch: string,
  context: Record<string, unknown>,
  bundled: ReusedBundles | undefined,
): Promise<boolean> {
  if (!bundled) return false;
  await runApp(app, scratch, { ...context, 'aws:cdk:bundling-stacks': [] });
  if (functionIdsOf(scratch).every((id) => Object.hasOwn(bundled.codeDirs, id))) {
    writeFileSync(join(scratch, BUNDLES_FILE), JSON.stringify(bundled));
    return true;
  }
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  return false;
}

function functionIdsOf(assemblyDir: string): string[] {
  const { Resources } = JSON.parse(
    readFileSync(join(assemblyDir, `${STACK_NAME}.template.json`), 'utf8'),
  ) as CloudAssembly['template'];
  return Object.keys(Resources).filter((id) => Resources[id].Type === 'AWS::Lambda::Function');
}

/** Every function's bundle in an assembly of these sources that has its bundles; undefined when there is none. */
function bundledAssemblyOf(parent: string, sources: string): ReusedBundles | undefined {
  const marker = join(parent, `${BUNDLED_PREFIX}${sources}`);
  if (!existsSync(marker)) return undefined;
  const assembly = join(parent, readFileSync(marker, 'utf8').trim());
  const templatePath = join(assembly, `${STACK_NAME}.template.json`);
  if (!existsSync(templatePath)) return undefined;
  const { Resources } = JSON.parse(readFileSync(templatePath, 'utf8')) as CloudAssembly['template'];
  const codeDirs: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(Resources)) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (resource.Type === 'AWS::Lambda::Function' && assetPath) codeDirs[logicalId] = join(assembly, assetPath);
  }
  return Object.values(codeDirs).every((codeDir) => existsSync(codeDir)) ? { assembly, codeDirs } : undefined;
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

function sourceHash(): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else {
      hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  for (const input of INPUTS) if (existsSync(join(ROOT, input))) visit(join(ROOT, input));
  return hash.digest('hex').slice(0, 16);
}

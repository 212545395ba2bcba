import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..');

/**
 * Bundles `entry` into `dir`/index.js with the construct's esbuild settings (lib/jobs-functions.ts: minified,
 * Node 24, CommonJS, packages' ES module builds), the AWS SDK included unless `external` leaves packages to the
 * runtime. Packages resolve from this repository wherever the entry lives. Answers `dir`.
 */
export async function bundleAsDeployed(entry: string, dir: string, external: string[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: join(dir, 'index.js'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    external,
    logLevel: 'silent',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  return dir;
}

/** A floor function: `source` (a CommonJS module exporting `handler`) bundled as deployed, in `dir` or a new one. */
export function floorFunction(source: string, dir = mkdtempSync(join(tmpdir(), 'floor-'))): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'floor.js'), source);
  return bundleAsDeployed(join(dir, 'floor.js'), dir);
}

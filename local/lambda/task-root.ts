import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Where a bundle runs from: a copy of its asset directory outside this repository. Lambda's /var/task has no
 * parent `node_modules`; an asset directory inside the repository does, and Node would find there any package
 * a bundle forgot to include, so a bundle that fails in Lambda would work locally.
 */
export function taskRootFor(assetDir: string): string {
  const root = join(tmpdir(), 'replicate-jobs-task-roots', `${basename(dirname(assetDir))}-${basename(assetDir)}`);
  if (existsSync(root)) return root;
  mkdirSync(dirname(root), { recursive: true });
  const scratch = `${root}.${process.pid}.${Date.now()}`;
  cpSync(assetDir, scratch, { recursive: true });
  try {
    renameSync(scratch, root); // another process may have made the same copy first: either is right
  } catch {
    rmSync(scratch, { recursive: true, force: true });
  }
  return root;
}

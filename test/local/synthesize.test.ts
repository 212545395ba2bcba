import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { synthesize } from '../../local/cloud/synthesize';

/**
 * The local synth reuses bundles across contexts: they depend on the sources only, so after one assembly of these
 * sources has its bundles, another context's synth skips esbuild and its functions run those bundles.
 */
it("synthesizes another context without bundling, its functions running an earlier assembly's bundles", async () => {
  await synthesize({ synthesizeTest: 'first' }); // one with bundles (or one that reuses them, if they exist)
  const second = await synthesize({ synthesizeTest: `second ${Date.now()}` });
  const functionIds = Object.keys(second.template.Resources).filter(
    (id) => second.template.Resources[id].Type === 'AWS::Lambda::Function',
  );
  expect(functionIds.length).toBeGreaterThan(0);
  expect(Object.keys(second.codeDirs ?? {}).sort()).toEqual(functionIds.sort());
  for (const codeDir of Object.values(second.codeDirs!)) expect(existsSync(join(codeDir, 'index.js'))).toBe(true);
  // Nothing bundled in the new assembly itself.
  expect(readdirSync(second.dir).filter((name) => name.startsWith('asset.'))).toEqual([]);
}, 120_000);

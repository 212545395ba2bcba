import * as path from 'node:path';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { WASM_VIPS_RUNTIME_FILES } from '../lambdas/adapters/wasm-vips-images';

/**
 * The package's directory in this checkout. Not `require.resolve('wasm-vips/package.json')`: the package's
 * `exports` do not export its package.json (ERR_PACKAGE_PATH_NOT_EXPORTED); its main file is `lib/vips-node.js`.
 */
export function wasmVipsPackageDir(): string {
  return path.dirname(path.dirname(require.resolve('wasm-vips')));
}

/**
 * What a function deriving images (lambdas/adapters/wasm-vips-images.ts) adds to its NodejsFunction bundling:
 * wasm-vips stays out of the bundle and its runtime files are copied into the asset's `node_modules/wasm-vips`.
 *
 * Out of the bundle because its Node build starts libvips' threads as worker threads of its own file (by
 * `__filename`) and finds its .wasm modules beside that file: bundled, the workers would run the bundle and the
 * modules would not be found. Copied, not installed (`nodeModules` would run `npm install` at every synth, online):
 * only the files a process reads (WASM_VIPS_RUNTIME_FILES, ~9 MB; the package's JPEG XL and SVG modules, ~3.4 MB,
 * are never loaded), with plain `mkdir -p` and `cp`, offline. The copy is taken from the project's node_modules
 * (the version package-lock.json pins), found relative to the hook's `inputDir` (the project root), so the
 * commands also hold in a bundling container, where the project is mounted elsewhere.
 *
 * `projectRoot` is the NodejsFunction's `projectRoot`. `externalModules` replaces the bundling's own: pass the
 * others in `alsoExternal` (none today: the SDK is bundled).
 */
export function wasmVipsBundling(
  projectRoot: string,
  alsoExternal: string[] = [],
): Required<Pick<nodejs.BundlingOptions, 'externalModules' | 'commandHooks'>> {
  const packageDir = path.relative(projectRoot, wasmVipsPackageDir()).split(path.sep).join('/');
  if (packageDir.startsWith('..')) throw new Error(`wasm-vips is not under the project root ${projectRoot}`);
  return {
    externalModules: [...alsoExternal, 'wasm-vips'],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => {
        const target = `${outputDir}/node_modules/wasm-vips`;
        return [
          `mkdir -p "${target}/lib"`,
          ...WASM_VIPS_RUNTIME_FILES.map((file) => `cp "${inputDir}/${packageDir}/${file}" "${target}/${file}"`),
        ];
      },
    },
  };
}

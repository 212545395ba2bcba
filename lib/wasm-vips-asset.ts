import * as path from 'node:path';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** The files of wasm-vips the consumer loads: its Node entry, libvips, and the HEIF side module (AVIF). */
export const WASM_VIPS_FILES = ['package.json', 'lib/vips-node.js', 'lib/vips.wasm', 'lib/vips-heif.wasm'];

/**
 * wasm-vips cannot be bundled (it finds its .wasm files beside its own script), so the consumer's bundle leaves it
 * external and the files it loads are copied into the asset's `node_modules/wasm-vips`, from the installed package
 * (the version package-lock.json pins): plain `cp`, offline, the same on every machine. Lambda then resolves
 * `require('wasm-vips')` from the asset.
 */
export const WASM_VIPS_BUNDLING: Partial<nodejs.BundlingOptions> = {
  externalModules: ['wasm-vips'],
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => {
      // Its package.json is not in its exports: found from the entry `require` resolves (lib/vips-node.js).
      const source = path.dirname(path.dirname(require.resolve('wasm-vips')));
      const target = path.join(outputDir, 'node_modules', 'wasm-vips');
      return [
        `mkdir -p "${path.join(target, 'lib')}"`,
        ...WASM_VIPS_FILES.map((file) => `cp "${path.join(source, file)}" "${path.join(target, file)}"`),
      ];
    },
  },
};

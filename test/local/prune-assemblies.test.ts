import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneOldAssemblies } from '../../local/cloud/synthesize';

test('keeps the 10 most recently used assemblies and any used within the hour; removes the rest', () => {
  const parent = mkdtempSync(join(tmpdir(), 'assemblies-'));
  try {
    const hour = 3_600_000;
    // 14 assemblies: the 12 oldest idle for hours, the 2 newest used a minute ago.
    for (let i = 0; i < 14; i++) {
      const name = i.toString(16).padStart(16, '0');
      mkdirSync(join(parent, name));
      const used = new Date(Date.now() - (i < 12 ? (20 - i) * hour : 60_000));
      utimesSync(join(parent, name), used, used);
    }
    mkdirSync(join(parent, '0000000000000000.123.456')); // a synth in progress: never touched
    pruneOldAssemblies(parent);
    const left = readdirSync(parent).sort();
    expect(left).toHaveLength(11);
    expect(left).toContain('0000000000000000.123.456');
    expect(left).not.toContain('0000000000000000'); // the oldest went
    expect(left).toContain('000000000000000d'); // the newest stayed
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

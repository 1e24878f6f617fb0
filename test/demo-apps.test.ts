// `nooks demo`'s lines for the device classes' applications: what each
// application reported, as its fields, not raw JSON cut mid-token; a report
// too long for the line ends in … at a field's end.
import { describe, expect, it } from 'vitest';
import { appRunLine, runApps, type AppRun } from '../lib/cli/commands/demo-apps.js';

describe('nooks demo: the applications\' lines', () => {
  it('each application\'s real report as its fields, no JSON', async () => {
    const lines: string[] = [];
    const runs = await runApps('mprotect', (a) => lines.push(appRunLine(a)));
    expect(runs.map((a) => [a.app, a.ok])).toEqual(['db', 'echo', 'player', 'recorder', 'net-transfer'].map((a) => [a, true]));
    for (const l of lines) {
      expect(l).not.toMatch(/[{}"]/);
      expect(l.length).toBeLessThanOrEqual(200);
    }
    expect(lines[1]).toMatch(/^ok {5}serial echo .* ms {2}port ttyS0, .*linesEchoed 5, /);
    // the transfer's two sides, by name: more than the line holds
    expect(lines[4]).toMatch(/sender\.bytes 65536, .*, …$/);
  }, 90_000);

  it('a report longer than the line is cut at a field, with …; a failure shows its error first', () => {
    const run: AppRun = {
      app: 'db', class: 'block', ok: false, ms: 12,
      report: { ok: false, isolation: 'mprotect', device: 'blk0', error: { code: 'EIO', message: 'read of sector 9 failed' }, records: 2048, firstMismatches: [{ sector: 1 }, { sector: 2 }], ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`field${i}`, 1000 + i])) },
    };
    const line = appRunLine(run);
    expect(line).toMatch(/^FAILED block {2}db {11}12\.0 ms {2}error: read of sector 9 failed, device blk0, records 2048, firstMismatches 2, field0 1000, /);
    expect(line).toMatch(/, field\d+ \d+, …$/);
    expect(line).not.toContain('field19');
  });
});

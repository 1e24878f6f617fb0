// The applications experiment end to end (`nooks table apps --json`, after
// Table 3 of the shadow-driver paper): every application with its driver
// faulting at random moments, in child processes. The expected shape: without
// isolation the process dies; with Nooks alone the driver is restarted but the
// application fails; with shadow drivers it completes and verifies its work.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import type { TableRow } from '../lib/experiments/table-apps.js';
import { runNode } from './helpers/util.js';

describe('nooks table apps', () => {
  it('none crashes, nooks malfunctions, shadow continues: for every application', async () => {
    const r = await runNode([join(packageRoot, 'dist', 'lib', 'cli', 'main.js'), 'table', 'apps', '--json'], packageRoot, 240_000);
    expect(r.code, r.stderr).toBe(0);
    const { rows } = JSON.parse(r.stdout) as { rows: TableRow[] };
    expect(new Set(rows.map((x) => x.class))).toEqual(new Set(['block', 'serial', 'sound', 'net']));
    const summary = rows.map((x) => `${x.app} ${x.config}: ${x.outcome}${x.detail ? ` (${x.detail})` : ''}`).join('\n');
    for (const row of rows) {
      const want = { none: 'crash', nooks: 'malfunction', shadow: 'continued' }[row.config];
      expect(row.outcome, summary).toBe(want);
      if (row.config === 'none') expect(row.detail, summary).toBe('the process died of SIGSEGV');
      if (row.config === 'shadow') {
        expect(row.failures, summary).toBeGreaterThanOrEqual(1); // the fault did happen
        expect(row.recoveryMs).toHaveLength(row.failures);
      }
    }
  }, 250_000);
});

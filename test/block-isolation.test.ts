// The block class with the identical driver binary (build/drivers/blk.so) in
// every isolation mode this machine can run: the database-like application
// (dist/lib/apps/db.js, run as a program the way a user runs it, one kernel
// per process) must report success, machine-readably, in each. Needs
// `npm run build` after changes to lib/ (the app runs from dist/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { runNode } from './helpers/util.js';

const app = join(packageRoot, 'dist', 'lib', 'apps', 'db.js');
const dir = mkdtempSync(join(tmpdir(), 'nooks-blk-iso-'));
const modes = ['mprotect', 'none', ...(Kernel.pkuSupported() ? ['pkey'] : [])];

describe('the db application on the blk driver, per isolation mode', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of modes) {
    it(`succeeds with isolation '${mode}'`, async () => {
      const image = join(dir, `${mode}.img`);
      const run = await runNode([app, '--image', image, '--size', String(2 << 20), '--rounds', '4', '--writes', '128', '--isolation', mode], packageRoot);
      expect(run.stderr).toBe('');
      const report = JSON.parse(run.stdout.trim());
      expect(report).toMatchObject({ ok: true, device: 'blk0', records: 4096, writes: 512, flushes: 4, mismatches: 0 });
      expect(run.code).toBe(0);
    });
  }

  it('exits 2 with usage when no image is given', async () => {
    const run = await runNode([app], packageRoot);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ app: 'db', ok: false, error: { code: 'EINVAL', message: expect.stringMatching(/usage: db --image PATH/) } });
  });
});

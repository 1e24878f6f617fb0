// Protection keys run out: Node's V8 holds one, 14 are left for domains.
// Past that, domains share a key (isolated from the kernel, not from each
// other), and the kernel says so instead of failing. Runs where 'pkey' can
// run; elsewhere test/guest-pkey.test.ts runs it in a guest.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type Driver } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { faultOf } from './helpers/util.js';

const reason = Kernel.pkeyUnusableReason();
const COUNT = 18;

describe.skipIf(reason !== '')(`protection keys shared past 14 domains${reason ? ` (skipped here: ${reason})` : ''}`, () => {
  let kernel: Kernel;
  const drivers: Driver[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'nooks-keys-'));

  beforeAll(async () => {
    kernel = await Kernel.boot({ isolation: 'pkey' });
    for (let i = 0; i < COUNT; i++) {
      // one domain per driver file: copies of crashy under other names
      const path = join(dir, `crashy${i}.so`);
      copyFileSync(driverPath('crashy'), path);
      drivers.push(await kernel.load(path));
    }
  });
  afterAll(async () => {
    await kernel.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each domain a key while they last, then shares and says so', () => {
    const domains = kernel.domains();
    expect(domains).toHaveLength(COUNT);
    const keys = new Set(domains.map((d) => d.pkey));
    expect(keys.size).toBeGreaterThanOrEqual(13);
    expect(keys.size).toBeLessThanOrEqual(15);
    expect([...keys].every((k) => k >= 1 && k <= 15)).toBe(true);
    const shared = domains.filter((d) => d.sharedKey);
    expect(shared.length).toBeGreaterThanOrEqual(2 * (COUNT - keys.size));
  });

  it('every driver works, and one on a shared key still faults and recovers alone', () => {
    for (const d of drivers) expect(d.call('add', 2, 3)).toBe(5);
    const last = drivers[COUNT - 1];
    expect(kernel.domains().find((d) => d.id === last.id)!.sharedKey).toBe(true);
    expect(faultOf(() => last.call('null_deref')).kind).toBe('segv');
    expect(last.state).toBe('running');
    expect(drivers.filter((d) => d.state !== 'running')).toEqual([]);
  });
});

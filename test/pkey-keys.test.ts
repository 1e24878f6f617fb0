// Protection keys run out: Node's V8 holds one, 14 are left for domains.
// Past that, domains share a key (isolated from the kernel, not from each
// other), and the kernel says so instead of failing. A key freed and taken
// again by another domain stays closed to a thread that entered its domain
// while the key was free. Runs where 'pkey' can run; elsewhere
// test/guest-pkey.test.ts runs it in a guest.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type Driver } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { faultOf, until } from './helpers/util.js';

const reason = Kernel.pkeyUnusableReason();
const COUNT = 18;
const reusing = fixtureDriver('key-reuse', { posix: true }); // test/fixtures/drivers/key-reuse.c

describe.skipIf(reason !== '')(`protection keys shared past 14 domains${reason ? ` (skipped here: ${reason})` : ''}`, () => {
  let kernel: Kernel;
  const drivers: Driver[] = [];
  let dir: string;

  // the directory made by a hook, not as the suite is collected: a skipped suite runs neither hook
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-keys-'));
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

describe.skipIf(reason !== '')(`a key freed and taken again${reason ? ` (skipped here: ${reason})` : ''}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-key-reuse-')); // as above: by a hook
  });
  const copy = (name: string) => {
    const path = join(dir, `${name}.so`);
    copyFileSync(reusing, path);
    return path;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Before, the thread kept the PKRU it entered with, the freed key open in it: C's secret was 16705 (0x4141), no fault.
  it("is closed to a thread that entered its domain while it was free: its store into the key's new domain faults", async () => {
    const kernel = await Kernel.boot({ isolation: 'pkey' });
    try {
      const a = await kernel.load(copy('a'));
      const d = await kernel.load(copy('d'));
      const key = kernel.domains().find((x) => x.id === d.id)!.pkey;
      d.unload();
      expect(a.call('start')).toBe(0);
      await until(() => a.call('has_entered') === 1, "a's thread inside a", 20_000);
      const c = await kernel.load(copy('c'));
      expect(kernel.domains().find((x) => x.id === c.id)!.pkey).toBe(key);
      const faults: string[] = [];
      kernel.on('fault', (e) => faults.push(`${e.driver}: ${e.fault?.kind}`));
      a.call('store_to', c.call('secret_addr'));
      await until(() => faults.length > 0 || c.call('secret_value') !== 7, "a's store", 20_000);
      expect(c.call('secret_value')).toBe(7);
      expect(faults).toEqual(['a: pkey']);
    } finally {
      await kernel.shutdown();
    }
  });
});

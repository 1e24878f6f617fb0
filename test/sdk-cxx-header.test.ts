// <nooks/kapi.hh> (docs/drivers.md, C++ drivers): the C++ helpers the SDK
// ships beside <nooks/kapi.h>. The header compiles with no warning under
// -Wpedantic -Werror in every C++ mode a driver is built in, refuses a C
// source by saying so, and each helper does its job in a driver of the bus
// test device (test/fixtures/cxx/helpers_driver.cc): the lock guards release
// on every path out, the BAR's registers are read and written at the width
// asked, the DMA buffer is where the device reads and writes, and
// probe_device deletes the object whose start failed, its members releasing
// what they held.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from '../lib/sdk/build.js';
import { cflags, cxxCompileFlags, posixCxxCompileFlags } from '../lib/sdk/flags.js';
import { kernelPerBlock } from './helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-sdk-cxx-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = join(packageRoot, 'test', 'fixtures', 'cxx', 'helpers_driver.cc');
const strict = ['-Wpedantic', '-Werror'];

describe('<nooks/kapi.hh>, compiled', () => {
  const alone = join(dir, 'alone.cc');
  writeFileSync(alone, '#include <nooks/kapi.hh>\n');
  const modes = { 'kernel-API': cxxCompileFlags(), 'POSIX-personality': posixCxxCompileFlags() };

  describe.each(Object.entries(modes))('with the %s C++ flags', (_, flags) => {
    // the driver's default and what a user's -std= may pick
    it.each<[string, string[]]>([['gnu++17 (the default)', []], ['c++17', ['-std=c++17']], ['gnu++20', ['-std=gnu++20']], ['c++20', ['-std=c++20']]])('%s: alone and with every helper instantiated, no warning under -Wpedantic -Werror', (_, std) => {
      for (const source of [alone, fixture]) {
        const r = spawnSync('g++', [...flags, ...std, ...strict, '-fsyntax-only', source], { encoding: 'utf8' });
        expect(r.stderr).toBe(''); // without the header: "fatal error: nooks/kapi.hh: No such file or directory"
        expect(r.status).toBe(0);
      }
    });
  });

  it('a C source that includes it is refused by the compiler, which says it is for C++ and names <nooks/kapi.h>', () => {
    const c = join(dir, 'driver.c');
    writeFileSync(c, '#include <nooks/kapi.hh>\n');
    const r = spawnSync('cc', [...cflags(), '-fsyntax-only', c], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('<nooks/kapi.hh> is for drivers in C++ (its helpers are classes); a C driver includes <nooks/kapi.h>');
    expect(r.stderr.match(/error:/g)).toHaveLength(1); // that error only: the rest of the header is not read as C
  });
});

describe("a driver using every helper, isolation 'mprotect'", () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let so: string;
  const deleted = () => kernel().log().filter((l) => l.source === 'cxxhelpers' && l.text === 'cxxhelpers: device deleted').length;
  const types = (d: Driver) => d.objects().map((o) => o.type).sort();
  let drv: Driver;

  beforeAll(() => {
    so = buildDriver({ sources: [fixture], out: join(dir, 'cxxhelpers.so'), extraCflags: strict }).path;
    kernel().addDevice('testdev');
  });

  it('probe_device deletes the object whose start failed: the device is not bound, and its BAR and DMA buffer are released', async () => {
    const failed = await kernel().load(so, { params: { fail_start: -19 } });
    try {
      expect(kernel().devices()[0].driver).toBeNull();
      expect(deleted()).toBe(1);
      expect(types(failed)).toEqual(['pci_driver']); // no iomap, dma or memory (the object new made) left
    } finally {
      failed.unload();
    }
  });

  it('probe_device keeps the started object as the device\'s: its BAR, its DMA buffer and the object itself held', async () => {
    drv = await kernel().load(so);
    expect(kernel().devices()[0].driver).toBe('cxxhelpers');
    expect(types(drv)).toEqual(['dma', 'iomap', 'memory', 'pci_dev', 'pci_driver']);
  });

  it('MutexGuard and SpinGuard hold their locks in their scope and release them on a return from inside it and past its end', () => {
    expect(drv.call('guarded', 1)).toBe(1); // both held inside; returned from inside the scope
    expect(drv.call('lock_words')).toBe(0);
    expect(types(drv)).not.toContain('lock');
    expect(types(drv)).not.toContain('mutex');
    expect(drv.call('guarded', 0)).toBe(1);
    expect(drv.call('lock_words')).toBe(0);
    expect(drv.call('guarded', 1)).toBe(1); // taken again: neither was left held (a second take would be a self-deadlock fault)
    expect(drv.state).toBe('running');
  });

  it('Mmio writes and reads the device\'s registers 8, 16 and 32 bits wide, as the device records the accesses', () => {
    const write = 1 << 16, width = (w: number) => w << 8;
    expect(drv.call('ram_write', 0, 1, 0xab)).toBe(write | width(1) | 0);
    expect(drv.call('ram_write', 2, 2, 0xbeef)).toBe(write | width(2) | 2);
    expect(drv.call('ram_write', 4, 4, 0x12345678)).toBe(write | width(4) | 4);
    expect(drv.call('ram_read', 0, 4)).toBe(0xbeef00ab); // little-endian, as PCI
    expect(drv.call('last_access')).toBe(width(4) | 0);
    expect(drv.call('ram_read', 3, 1)).toBe(0xbe);
    expect(drv.call('last_access')).toBe(width(1) | 3);
    expect(drv.call('ram_read', 4, 2)).toBe(0x5678);
    expect(drv.call('last_access')).toBe(width(2) | 4);
  });

  it('DmaBuffer: the device writes and reads its elements at bus(i), and allocate replaces it, the old one freed', () => {
    expect(drv.call('dma_fill', 2, 3, 0x5a)).toBe(12 * 0x5a); // words 2..4, 12 bytes of 0x5a
    expect([1, 2, 3, 4, 5].map((i) => drv.call('word', i))).toEqual([0, 0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a, 0]);
    expect(drv.call('dma_sum', 7, 0x01020304)).toBe(1 + 2 + 3 + 4);
    const dma = () => drv.objects().filter((o) => o.type === 'dma').map((o) => o.size);
    expect(dma()).toEqual([16 * 4]);
    expect(drv.call('dma_reallocate', 1024)).toBe(1024);
    expect(dma()).toEqual([1024 * 4]); // the 16 words' buffer freed
    expect(drv.call('dma_fill', 1000, 24, 1)).toBe(96);
    expect(drv.call('word', 1023)).toBe(0x01010101);
  });

  it('remove_device deletes the object at unload', () => {
    const before = deleted();
    drv.unload();
    expect(deleted()).toBe(before + 1);
  });
});

// MMIO trap-and-emulate: a BAR of an emulated device mapped into the driver
// (nooks/testing mapBar: what a POSIX driver's mmap of resource0 maps)
// traps every load and store; the kernel decodes
// the instruction, performs the access on the model and resumes the driver
// with the destination register set. The testdev driver (drivers/testdev/mmio.c)
// makes plain volatile accesses of every width, loads into every general
// register, and an access the trap cannot emulate. In every isolation mode the
// machine can run (test/guest-pkey.test.ts runs it where pkey can); the
// decoder's own tests are test/mmio-decode.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, type Driver, type Isolation } from '../lib/index.js';
import { mapBar } from '../lib/testing.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, faultOf } from './helpers/util.js';

const RAM = 0x100; // testdev's RAM: any width (native/dev/testdev.cc)
const RAM_ACCESSES = 0x30; // read to clear
const LAST_ACCESS = 0x34; // offset in the RAM | width << 8 | write << 16

describe.each<Isolation>(bootableIsolations)("MMIO trap-and-emulate, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({
    isolation,
    policy: { default: { ...defaultPolicy.default, maxFailures: 100 }, drivers: new Map() },
  });
  let drv: Driver;
  let bar: number;
  const reg = (off: number) => Number(drv.call('reg_read', off)); // through the kernel: the pci_iomap cookie
  const u64 = (v: number | bigint) => BigInt.asUintN(64, BigInt(v));

  beforeAll(async () => {
    kernel().addDevice('testdev');
    drv = await kernel().load('testdev');
    bar = mapBar(drv, 'testdev0', 0);
  });

  it('maps the BAR as the driver\'s object, at an address nothing can touch', () => {
    expect(drv.objects().some((o) => o.type === 'iomap' && o.label === 'testdev0 BAR0 (mapped)')).toBe(true);
    expect(bar % 4096).toBe(0);
    expect(() => mapBar(drv, 'testdev0', 3)).toThrow(/\[EINVAL\]|has no BAR 3/);
  });

  it('performs stores of every width on the model (64 bits as two 32-bit accesses, low half first)', () => {
    reg(RAM_ACCESSES);
    const stores: [number, number, number | bigint][] = [[1, 0x00, 0xa5], [2, 0x02, 0xbeef], [4, 0x04, 0x12345678], [8, 0x08, 0x1122334455667788n]];
    for (const [width, off, value] of stores) {
      expect(drv.call('mmio_store', bar, RAM + off, width, value)).toBe(0);
      expect(reg(RAM_ACCESSES)).toBe(width === 8 ? 2 : 1);
      const last = width === 8 ? (off + 4) | (4 << 8) : off | (width << 8);
      expect(reg(LAST_ACCESS)).toBe(last | (1 << 16));
    }
    expect(reg(RAM) >>> 0).toBe(0xbeef00a5);
    expect(reg(RAM + 4) >>> 0).toBe(0x12345678);
    expect(reg(RAM + 8) >>> 0).toBe(0x55667788);
    expect(reg(RAM + 12) >>> 0).toBe(0x11223344);
    expect(drv.call('mmio_store_nt', bar, RAM + 0x10, 0xcafef00d)).toBe(0); // movnti
    expect(reg(RAM + 0x10) >>> 0).toBe(0xcafef00d);
  });

  it('performs loads of every width, zero- or sign-extended as the instruction says', () => {
    drv.call('reg_write', RAM + 0x20, 0x8081f0f1);
    drv.call('reg_write', RAM + 0x24, 0x90919293);
    reg(RAM_ACCESSES);
    const load = (off: number, width: number, signed = 0) => u64(drv.call('mmio_load', bar, RAM + off, width, signed));
    expect(load(0x20, 1)).toBe(0xf1n);
    expect(load(0x20, 1, 1)).toBe(u64(-15));
    expect(load(0x20, 2)).toBe(0xf0f1n);
    expect(load(0x20, 2, 1)).toBe(u64(-0x0f0f));
    expect(load(0x20, 4)).toBe(0x8081f0f1n);
    expect(load(0x20, 4, 1)).toBe(u64(0x8081f0f1 - 2 ** 32));
    expect(load(0x20, 8)).toBe(0x909192938081f0f1n);
    expect(reg(RAM_ACCESSES)).toBe(8);
    expect(reg(LAST_ACCESS)).toBe(0x24 | (4 << 8)); // the 64-bit load's high half, last
  });

  it('sets each destination register as the instruction says and keeps every other register, xmm5 and the flags', () => {
    const ram = Buffer.alloc(64);
    for (let i = 0; i < 64; i++) ram[i] = 0x80 | ((i * 29 + 7) & 0x7f); // sign bits set
    for (let i = 0; i < 64; i += 4) drv.call('reg_write', RAM + i, ram.readUInt32LE(i));
    const init = Array.from({ length: 16 }, (_, r) => 0x0101010101010101n * BigInt(r + 1) + 0x1000000000000000n);
    init[15] = BigInt(bar); // r15: the base of every load
    init[6] = BigInt(bar); // rsi: the base of the load into AH (which cannot have r15's REX prefix)
    const xmm5 = 0x5555aaaa5555aaaan;
    const io = drv.alloc(18 * 8);
    const buf = Buffer.alloc(18 * 8);
    init.forEach((v, r) => buf.writeBigUInt64LE(v, r * 8));
    buf.writeBigUInt64LE(xmm5, 128);
    drv.write(io, buf);
    expect(drv.call('mmio_every_register', io)).toBe(0);
    const out = drv.read(io, 18 * 8);
    const got = (r: number) => out.readBigUInt64LE(r * 8);
    const keep = (r: number, mask: bigint, v: bigint) => (init[r] & ~mask) | v;
    const s = (v: bigint, bits: number) => BigInt.asUintN(64, BigInt.asIntN(bits, v));
    const want: [string, number, bigint][] = [
      ['rax (AH)', 0, keep(0, 0xff00n, BigInt(ram[0x00]) << 8n)],
      ['rcx (16 bits)', 1, keep(1, 0xffffn, BigInt(ram.readUInt16LE(0x02)))],
      ['rdx (32 bits)', 2, BigInt(ram.readUInt32LE(0x04))],
      ['rbx (64 bits)', 3, ram.readBigUInt64LE(0x08)],
      ['rsp (untouched)', 4, init[4]],
      ['rbp (movsx 8 to 32)', 5, BigInt.asUintN(32, s(BigInt(ram[0x14]), 8))],
      ['rsi (movzx 8 to 32)', 6, BigInt(ram[0x10])],
      ['rdi (movsx 16 to 64)', 7, s(BigInt(ram.readUInt16LE(0x12)), 16)],
      ['r8 (movsxd)', 8, s(BigInt(ram.readUInt32LE(0x18)), 32)],
      ['r9 (8 bits)', 9, keep(9, 0xffn, BigInt(ram[0x1c]))],
      ['r10 (16 bits)', 10, keep(10, 0xffffn, BigInt(ram.readUInt16LE(0x1e)))],
      ['r11 (32 bits)', 11, BigInt(ram.readUInt32LE(0x20))],
      ['r12 (64 bits)', 12, ram.readBigUInt64LE(0x28)],
      ['r13 (movzx 16 to 64)', 13, BigInt(ram.readUInt16LE(0x30))],
      ['r14 (movsx 8 to 64)', 14, s(BigInt(ram[0x32]), 8)],
      ['r15 (the base)', 15, init[15]],
    ];
    for (const [name, r, v] of want) expect(`${name}: 0x${got(r).toString(16)}`).toBe(`${name}: 0x${v.toString(16)}`);
    expect(got(16)).toBe(xmm5);
    expect(got(17) & 1n).toBe(1n); // the carry flag set before the loads
  });

  if (isolation === 'none') return; // no containment there: a fault is the process's, as in a real kernel

  it('fails the driver on an access it cannot emulate, naming the instruction, and the restarted driver maps the BAR again', () => {
    const f = faultOf(() => drv.call('mmio_sse_load', bar));
    expect(f.kind).toBe('segv');
    expect(f.message).toMatch(/access to an emulated BAR at 0x[0-9a-f]+ that cannot be emulated: instruction 66 (4\d )?0f 6f/);
    expect(drv.state).toBe('running');
    // Recovery released the mapping: the old address is no BAR of the restarted driver.
    expect(drv.objects().some((o) => o.label.endsWith('(mapped)'))).toBe(false);
    const stale = faultOf(() => drv.call('mmio_load', bar, RAM, 4, 0));
    expect(stale.kind).toBe('bad-call');
    expect(stale.message).toMatch(/load of 4 bytes at 0x[0-9a-f]+ by the instruction [0-9a-f ]+ at 0x[0-9a-f]+: not inside an emulated BAR this driver mapped/);
    bar = mapBar(drv, 'testdev0', 0);
    drv.call('reg_write', RAM, 0x600dcafe);
    expect(u64(drv.call('mmio_load', bar, RAM, 4, 0))).toBe(0x600dcafen);
  });

  it('fails the driver on an access that runs past the end of the BAR', () => {
    const f = faultOf(() => drv.call('mmio_load', bar, 4092, 8, 0));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toMatch(/load of 8 bytes at 0x[0-9a-f]+ by the instruction 4[89a-f] 8b [0-9a-f ]+ at 0x[0-9a-f]+: not inside/);
    expect(drv.state).toBe('running');
  });
});

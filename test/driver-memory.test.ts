// Memory that JavaScript places in a driver's domain (driver.alloc, free,
// write, read, cstring) to pass buffers and strings to its exported
// functions: blocks of the driver's heap, held as its objects, bounds-checked
// against the blocks it holds, released at recovery. drivers/memtest reads
// and writes what it is given. Each isolation mode boots in turn, 'pkey'
// where the machine has protection keys.
import { beforeAll, describe, expect, it } from 'vitest';
import { DriverUnavailable, type Driver, type Isolation } from '../lib/index.js';
import { hostProbe } from '../lib/testing.js';
import { hex } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, errorOf, faultOf } from './helpers/util.js';

describe.each<Isolation>(bootableIsolations)("driver memory, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  let d: Driver;

  beforeAll(async () => {
    d = await kernel().load('memtest', { memLimitBytes: 1 << 20 });
  });

  const blocks = (label: string) => d.objects().filter((o) => o.type === 'memory' && o.label === label);

  it('alloc: a zeroed block of the driver heap, held as its object and counted in heapUsed', () => {
    const heapBefore = kernel().domains()[0].heapUsed;
    const a = d.alloc(40);
    expect(typeof a).toBe('number');
    expect(d.read(a, 40)).toEqual(Buffer.alloc(40));
    expect(blocks('driver.alloc')).toContainEqual({ type: 'memory', address: hex(a), size: 40, label: 'driver.alloc' });
    expect(kernel().domains()[0].heapUsed).toBeGreaterThanOrEqual(heapBefore + 40);
    d.free(a);
    expect(blocks('driver.alloc')).toEqual([]);
  });

  it('write, then the driver reads it: sum(ptr, len)', () => {
    const a = d.alloc(100);
    const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7) % 256));
    d.write(a, bytes);
    expect(d.call('sum', a, 100)).toBe(bytes.reduce((s, b) => s + b, 0));
    // an address as a bigint works as well, and a write at an offset inside the block
    d.write(BigInt(a) + 10n, Buffer.from([0, 0]));
    expect(d.call('sum', a, 100)).toBe(bytes.reduce((s, b) => s + b, 0) - bytes[10] - bytes[11]);
    d.free(BigInt(a));
  });

  it('the driver writes, then JavaScript reads: fill(ptr, len, byte)', () => {
    const a = d.alloc(64);
    expect(d.call('fill', a + 8, 16, 0xab)).toBe(16);
    expect(d.read(a, 64)).toEqual(Buffer.concat([Buffer.alloc(8), Buffer.alloc(16, 0xab), Buffer.alloc(40)]));
    d.free(a);
  });

  it('cstring: a NUL-terminated UTF-8 string the driver reads; a NUL inside is refused', () => {
    const s = d.cstring('héllo, driver');
    expect(d.call('strlen_', s)).toBe(Buffer.byteLength('héllo, driver'));
    expect(d.read(s, 15)).toEqual(Buffer.from('héllo, driver\0'));
    d.free(s);
    expect(errorOf(() => d.cstring('a\0b')).code).toBe('EINVAL');
  });

  it("reads a block the driver allocated itself (its kmalloc'd table)", () => {
    const table = Number(d.call('table_addr'));
    expect(d.read(table, 32)).toEqual(Buffer.from(Array.from({ length: 32 }, (_, i) => i * 3)));
  });

  it('refuses every range outside one block the driver holds: EFAULT', () => {
    const a = d.alloc(16);
    const table = Number(d.call('table_addr'));
    const efault = (fn: () => unknown) => {
      expect(errorOf(fn)).toMatchObject({ code: 'EFAULT', message: expect.stringMatching(/^memtest: /) }); // names the driver
    };
    efault(() => d.read(a, 17)); // one byte past its end
    efault(() => d.write(a + 16, Buffer.from([1])));
    efault(() => d.read(table - 1, 1)); // before the heap's first block (the table, from init)
    efault(() => d.read(table + 31, 2)); // across the end of one block
    efault(() => d.read(-1, 1));
    // kernel memory: the host probe (a kernel object drivers may only read) is untouched
    const probe = hostProbe();
    efault(() => d.write(probe.address, Buffer.alloc(8)));
    efault(() => d.read(probe.address, 8));
    expect(hostProbe().value).toBe(probe.value);
    expect(errorOf(() => d.read(a, -1)).code).toBe('EINVAL');
    expect(errorOf(() => d.read('x' as unknown as number, 1)).code).toBe('EINVAL');
    d.free(a);
  });

  it('free: the block is gone (read, write and a second free refused); the driver’s own blocks are not JavaScript’s to free', () => {
    const a = d.alloc(32);
    d.free(a);
    expect(errorOf(() => d.read(a, 1)).code).toBe('EFAULT');
    expect(errorOf(() => d.write(a, Buffer.from([1]))).code).toBe('EFAULT');
    expect(errorOf(() => d.free(a))).toMatchObject({ code: 'EFAULT', message: expect.stringContaining(`driver.free(${hex(a)})`) });
    expect(errorOf(() => d.free(Number(d.call('table_addr')))).code).toBe('EFAULT');
    expect(d.read(Number(d.call('table_addr')), 1)).toEqual(Buffer.from([0])); // still the driver's
  });

  it('a block the driver takes over and kfrees is gone for JavaScript too', () => {
    const a = d.alloc(24);
    expect(d.call('release', a)).toBe(0);
    expect(blocks('driver.alloc')).toEqual([]);
    expect(errorOf(() => d.read(a, 1)).code).toBe('EFAULT');
    expect(errorOf(() => d.free(a)).code).toBe('EFAULT');
  });

  it('alloc(0) is refused (EINVAL); a block past the memory limit is refused (ENOMEM)', () => {
    expect(errorOf(() => d.alloc(0)).code).toBe('EINVAL');
    expect(errorOf(() => d.alloc(1.5)).code).toBe('EINVAL');
    const e = errorOf(() => d.alloc(2 << 20));
    expect(e.code).toBe('ENOMEM');
    expect(e.message).toContain('1048576'); // names the limit
  });

  it('a recovery releases every block: old addresses are refused, new blocks work', () => {
    const a = d.alloc(16);
    const s = d.cstring('before the fault');
    d.write(a, Buffer.from([5, 6, 7]));
    expect(blocks('driver.alloc')).toHaveLength(2);
    // 'none' traps no fault (one would kill the process): an explicit recovery releases the same way
    if (isolation === 'none') d.recover();
    else expect(faultOf(() => d.call('null_deref')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect(blocks('driver.alloc')).toEqual([]);
    for (const old of [a, s]) {
      expect(errorOf(() => d.read(old, 1)).code).toBe('EFAULT');
      expect(errorOf(() => d.write(old, Buffer.from([1]))).code).toBe('EFAULT');
      expect(errorOf(() => d.free(old)).code).toBe('EFAULT');
    }
    const b = d.alloc(16);
    d.write(b, Buffer.from([1, 2, 3]));
    expect(d.call('sum', b, 16)).toBe(6);
    d.free(b);
  });

  it('a disabled driver has no memory to offer: DriverUnavailable', () => {
    const a = d.alloc(16);
    for (let i = 0; i < 10 && d.state !== 'disabled'; i++) d.recover(); // past the policy's maxFailures
    expect(d.state).toBe('disabled');
    for (const fn of [() => d.alloc(16), () => d.read(a, 1), () => d.write(a, Buffer.from([1])), () => d.free(a)]) {
      const e = errorOf(fn);
      expect(e).toBeInstanceOf(DriverUnavailable);
      expect(e.message).toBe('memtest is disabled: its memory is not accessible');
    }
  });
});

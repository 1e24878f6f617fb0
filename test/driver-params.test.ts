// Load parameters: kernel.load(path, { params }) sets the variables a driver
// declares with module_param (nooks/kapi.h), checked against those
// declarations, before its module_init runs, at load and after every
// recovery. drivers/memtest declares count (int), offset (long), verbose
// (bool) and greeting (charp). Each isolation mode boots in turn, 'pkey'
// where the machine has protection keys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Isolation, LoadOptions } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { stringAt } from './helpers/data.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, faultOf, rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-params-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const params = { count: 7, offset: -(2n ** 40n), verbose: true, greeting: 'bonjour' };

describe.each<Isolation>(bootableIsolations)("load parameters, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it('unset, each keeps its initializer', async () => {
    const d = await kernel().load('memtest');
    expect([d.call('get_count'), d.call('get_offset'), d.call('get_verbose')]).toEqual([3, -5, 0]);
    expect(d.call('strlen_', d.call('greeting_addr'))).toBe(5); // "hello", in the driver's image
    expect(d.objects().filter((o) => o.label.startsWith('module_param'))).toEqual([]);
    d.unload();
  });

  it("given, the driver's init sees them; a charp is a string in the driver's heap, held for it", async () => {
    const d = await kernel().load('memtest', { params });
    expect([d.call('get_count'), d.call('get_offset'), d.call('get_verbose')]).toEqual([7, -(2 ** 40), 1]);
    const greeting = Number(d.call('greeting_addr'));
    expect(stringAt(d, greeting, 'bonjour'.length + 1)).toBe('bonjour');
    expect(d.objects()).toContainEqual({ type: 'memory', address: `0x${greeting.toString(16)}`, size: 8, label: 'module_param greeting' });
    // memtest's init logs them when verbose
    expect(kernel().log().map((l) => l.text)).toContain('memtest: count=7 offset=-1099511627776 greeting=bonjour');
  });

  it('they survive a recovery: the restarted driver sees the values given at load, not what it changed', () => {
    const d = kernel().driver('memtest')!;
    expect(d.call('set_count', 99)).toBe(99);
    const logged = kernel().log().length;
    if (isolation === 'none') d.recover(); // no fault is trapped under 'none'
    else expect(faultOf(() => d.call('null_deref')).kind).toBe('segv');
    expect(d.state).toBe('running');
    expect([d.call('get_count'), d.call('get_offset'), d.call('get_verbose')]).toEqual([7, -(2 ** 40), 1]);
    expect(stringAt(d, Number(d.call('greeting_addr')), 'bonjour'.length + 1)).toBe('bonjour');
    expect(d.objects().filter((o) => o.label === 'module_param greeting')).toHaveLength(1);
    expect(kernel().log().slice(logged).map((l) => l.text)).toContain('memtest: count=7 offset=-1099511627776 greeting=bonjour');
    d.unload();
  });
});

describe('load parameters refused (EPARAM)', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let noParams: string;
  let badType: string;

  beforeAll(async () => {
    const okInit = 'static int ok_init(void) { return 0; }\nmodule_init(ok_init);\n';
    noParams = buildDriver(dir, 'noparams', `#include <nooks/kapi.h>\n${okInit}`);
    // a declaration no module_param makes: a type this kernel does not know
    badType = buildDriver(
      dir,
      'badtype',
      `#include <nooks/kapi.h>\nstatic long x;\n` +
        `static const struct nooks_param p __attribute__((used, section(".nooks_params"), aligned(8))) = { "x", &x, 9, sizeof(x) };\n` +
        `NOOKS_EXPORT long get(void) { return x; }\n${okInit}`,
    );
  }, 60_000);

  /** Loads memtest (or `path`) with `p`, which must be refused with EPARAM; nothing of it stays loaded. */
  async function refused(p: LoadOptions['params'], path = 'memtest'): Promise<string> {
    const err = await rejectionOf(kernel().load(path, { params: p }));
    expect(err.code).toBe('EPARAM');
    expect(kernel().domains()).toEqual([]);
    return err.message;
  }

  it('an unknown name, listing what the driver declares', async () => {
    expect(await refused({ colour: 'red' })).toMatch(
      /memtest\.so: no parameter 'colour'; the driver declares: count \(int\), greeting \(charp\), offset \(long\), verbose \(bool\)$/,
    );
    expect(await refused({ count: 1 }, noParams)).toMatch(/noparams\.so: no parameter 'count'; the driver declares: none/);
  });

  it('a value of the wrong type', async () => {
    expect(await refused({ count: 'seven' })).toMatch(/parameter 'count' is int: expected an integer from -2147483648 to 2147483647, got "seven"$/);
    expect(await refused({ count: 1.5 })).toMatch(/parameter 'count' is int: .*got 1\.5$/);
    expect(await refused({ verbose: 1 })).toMatch(/parameter 'verbose' is bool: expected true or false, got 1$/);
    expect(await refused({ greeting: 42 })).toMatch(/parameter 'greeting' is charp: expected a string .*got 42$/);
    expect(await refused({ offset: null as unknown as number })).toMatch(/parameter 'offset' is long: .*got null$/);
  });

  it("a value out of the type's range", async () => {
    expect(await refused({ count: 2 ** 31 })).toMatch(/parameter 'count' is int: .*got 2147483648$/);
    expect(await refused({ count: -(2 ** 31) - 1 })).toMatch(/got -2147483649$/);
    expect(await refused({ offset: 2n ** 63n })).toMatch(/parameter 'offset' is long: .*got 9223372036854775808$/);
    expect(await refused({ offset: 2 ** 60 })).toMatch(/parameter 'offset' is long: .*a bigint past 2\^53/); // a double past 2^53 may be rounded
    expect(await refused({ greeting: 'x'.repeat(4096) })).toMatch(/parameter 'greeting' is charp: expected a string of at most 4095 bytes/);
    expect(await refused({ greeting: 'a\0b' })).toMatch(/without NUL/);
  });

  it('the edges of the ranges load', async () => {
    const d = await kernel().load('memtest', { params: { count: -(2 ** 31), offset: -(2n ** 63n), greeting: '' } });
    expect([d.call('get_count'), d.call('get_offset')]).toEqual([-(2 ** 31), -(2n ** 63n)]);
    expect(d.call('strlen_', d.call('greeting_addr'))).toBe(0);
    d.unload();
    const e = await kernel().load('memtest', { params: { count: 2 ** 31 - 1, offset: 2n ** 63n - 1n } });
    expect([e.call('get_count'), e.call('get_offset')]).toEqual([2 ** 31 - 1, 2n ** 63n - 1n]);
    e.unload();
  });

  it('params that are not an object { name: value }', async () => {
    expect(await refused([7] as unknown as LoadOptions['params'])).toMatch(/memtest\.so: params must be an object \{ name: value \}, got 7$/);
    expect(await refused('count=7' as unknown as LoadOptions['params'])).toMatch(/got count=7$/);
  });

  it('a malformed declaration: an unknown type', async () => {
    expect(await refused({}, badType)).toMatch(/badtype\.so: parameter 'x' has unknown type 9 \(int, long, bool or charp\)/);
  });

  it('module_param checks the variable’s type when the driver is compiled', () => {
    expect(() => buildDriver(dir, 'mistyped', '#include <nooks/kapi.h>\nstatic long n;\nmodule_param(n, int, 0444);\n')).toThrow(
      /module_param\(n, int\): the variable is not of type int/,
    );
  });
});

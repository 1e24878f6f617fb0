// The fault injector (lib/inject) and the loader's text patches: a seed names
// one fault; each type changes the instruction as it says; the patch really
// goes into the loaded text, shows, is trapped under mprotect, and stays
// across recovery (persistent) or goes (transient).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamicSymbol, sections } from '../lib/elf.js';
import { decode } from '../lib/inject/binary.js';
import { disassemble } from '../lib/inject/disasm.js';
import { applyFault, binaryTypes, planFault, targetedTypes, textPatch, type InjectedFault } from '../lib/inject/index.js';
import { tone } from '../lib/apps/wav.js';
import { defaultPolicy, openPcm, type Driver, type DriverPolicy, type RecoveryEvent } from '../lib/index.js';
import { builtInDrivers, driverPath, packageRoot } from '../lib/paths.js';
import { compiler } from '../lib/sdk/build.js';
import { cflags, ldflags, posixCompileFlags, posixLdflags } from '../lib/sdk/flags.js';
import { holdTeardown, releaseTeardown } from '../lib/testing.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { logFromNow } from './helpers/left-running.js';
import { faultOf, suiteIsolation, until } from './helpers/util.js';

const bits = (a: number, b: number) => [...(a ^ b).toString(2)].filter((c) => c === '1').length;
const hex = (s: string) => Buffer.from(s, 'hex');

// A library-style driver (no module_init) built as a user builds one (`nooks build --posix`), whose own functions
// share their names with the C library's (poll) and the driver runtime's (parse, linked in by its snprintf)
const userDriver = `#include <stdio.h>
#include <stdlib.h>
__attribute__((noipa)) static int poll(int *fds) { return fds ? *fds + 1 : -1; }
__attribute__((noipa)) static int parse(long v) { int n = 1; while (v /= 10) n++; return n; }
int user_poll(int v) { return poll(&v); }
int user_digits(long v) { long *p = malloc(sizeof *p); if (!p) return -1; *p = v; int n = parse(*p); free(p); return n; }
int user_print(int v) { char b[16]; return snprintf(b, sizeof b, "%d", v); }
`;

// A kapi driver built as a user builds one (`nooks build`), whose own function shares its name with the driver runtime's
// (emit, linked in by its printk)
const userKapiDriver = `#include <nooks/kapi.h>
MODULE_LICENSE("GPL");
__attribute__((noipa)) static int emit(char *buf, int c) { if (!buf) return -1; *buf = (char)c; return c + 1; }
NOOKS_EXPORT int user_emit(int c) { char b; return emit(&b, c); }
NOOKS_EXPORT int user_print(int c) { printk("x %d\\n", c); return c; }
static int user_init(void) { return 0; }
static void user_exit(void) {}
module_init(user_init);
module_exit(user_exit);
`;

const isPosix = (driver: string) => dynamicSymbol(readFileSync(driverPath(driver)), 'nooks_posix_start') !== undefined;

/** A driver's .so and its object files: an in-tree one's from the build, a user's ('user': POSIX, 'user-kapi') compiled here. */
function driverAndObjects(driver: string, dir: string): { so: string; objects: string[] } {
  if (!driver.startsWith('user')) {
    const objects = join(packageRoot, 'build', 'Release', 'obj.target', driver);
    return { so: driverPath(driver), objects: readdirSync(objects, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.o')).map((f) => join(objects, f)) };
  }
  const posix = driver === 'user';
  const so = buildDriver(dir, driver, posix ? userDriver : userKapiDriver, { posix });
  execFileSync(compiler(), [...(posix ? posixCompileFlags() : cflags()), '-c', join(dir, `${driver}.c`), '-o', join(dir, `${driver}.o`)]);
  return { so, objects: [join(dir, `${driver}.o`)] };
}

describe('planning', () => {
  it('the same seed gives the same fault; other seeds other sites', () => {
    for (const driver of ['blk', 'uart16550', 'pcm', 'e1000']) {
      expect(planFault(driver, { seed: 42 })).toEqual(planFault(driver, { seed: 42 }));
      const sites = new Set(Array.from({ length: 20 }, (_, s) => JSON.stringify(planFault(driver, { seed: s }).site)));
      expect(sites.size).toBeGreaterThan(10);
    }
  });

  it.each([...builtInDrivers(), 'user', 'user-kapi'])('%s: its faults go into its own code, each of its functions can be a site; none into the runtime or the personality', (name) => {
    expect(builtInDrivers().filter(isPosix)).toEqual(expect.arrayContaining(['e1000-libc', 'e1000-libc-net']));
    const dir = mkdtempSync(join(tmpdir(), 'nooks-inject-'));
    try {
      const { so: driver, objects } = driverAndObjects(name, dir);
      const posix = dynamicSymbol(readFileSync(driver), 'nooks_posix_start') !== undefined;
      // its own functions: those its object files define (those that survive into the .so)
      const defined = new Set(objects.flatMap((o) => execFileSync('nm', ['--defined-only', o], { encoding: 'utf8' }).split('\n').flatMap((l) => /^\S+ [tT] (\S+)$/.exec(l)?.[1] ?? [])));
      const own = disassemble(driver).functions.map((f) => f.name).filter((f) => defined.has(f));
      // e1000-libc-net's timer callback and the user's are named like the C library's poll; the kapi user's emit like the runtime's
      if (name === 'e1000-libc-net' || name === 'user') expect(own).toContain('poll');
      if (name === 'user-kapi') expect(own).toContain('emit');
      // and the runtime's of the same name is there too, not own: faults must not go there
      const twins = (fn: string) => disassemble(driver).functions.filter((f) => f.name === fn).map((f) => f.own);
      if (name === 'user-kapi') expect(twins('emit')).toEqual([true, false]);
      if (name === 'user') expect(twins('parse')).toEqual([true, false]);
      const faults = Array.from({ length: 200 }, (_, seed) => planFault(driver, { seed, exported: true }));
      expect(faults.map((f) => f.site.function).filter((f) => !defined.has(f))).toEqual([]);
      // and by address: in .text, not in a runtime function of the same name (the section headers: address, offset, size)
      const [, lo, , size] = /\s\.text\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(execFileSync('readelf', ['-SW', driver], { encoding: 'utf8' }))!;
      const inText = (offset: number) => offset >= parseInt(lo, 16) && offset < parseInt(lo, 16) + parseInt(size, 16);
      expect(faults.filter((f) => f.site.offset !== undefined && !inText(f.site.offset)).map((f) => f.site)).toEqual([]);
      // the whole patch too: a function is no longer than its section (.text's last, not up to the next section's first)
      expect(faults.filter((f) => f.patch && !inText(f.patch.offset + f.patch.after.length / 2 - 1)).map((f) => f.site)).toEqual([]);
      expect(faults.filter((f) => f.site.offset !== undefined).length).toBeGreaterThan(100); // most are text patches
      expect(own.filter((fn) => planFault(driver, { seed: 1, fn }).site.function !== fn)).toEqual([]);
      // a library-style driver's module_init is the personality's empty stand-in, not the driver's code
      if (!defined.has('nooks_module_init')) expect(() => planFault(driver, { seed: 1, fn: 'nooks_module_init' })).toThrow(/no function "nooks_module_init" of its own/);
      // a POSIX driver's allocations are the C library's: alloc-fail makes one of its own calls to them return NULL
      if (posix) {
        const f = planFault(driver, { seed: 1, type: 'alloc-fail', exported: true });
        expect(defined.has(f.site.function)).toBe(true);
        expect(disassemble(driver).instructions.find((i) => i.offset === f.patch!.offset)?.target).toMatch(/^(malloc|calloc|realloc)$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a driver linked without runtime.ld: the planner refuses it, since it cannot tell the driver\'s own code, and names the flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-inject-'));
    try {
      writeFileSync(join(dir, 'user.c'), userDriver);
      execFileSync(compiler(), [...posixCompileFlags(), join(dir, 'user.c'), '-o', join(dir, 'user.so'), ...posixLdflags().filter((f) => !f.endsWith('runtime.ld'))]);
      expect(() => planFault(join(dir, 'user.so'), { seed: 1 })).toThrow(/linked without the driver runtime's runtime\.ld .*`nooks sdk --posix-ldflags`/);
      writeFileSync(join(dir, 'kapi.c'), userKapiDriver);
      execFileSync(compiler(), [...cflags(), join(dir, 'kapi.c'), '-o', join(dir, 'kapi.so'), ...ldflags().filter((f) => !f.endsWith('runtime.ld'))]);
      expect(() => planFault(join(dir, 'kapi.so'), { seed: 1 })).toThrow(/linked without the driver runtime's runtime\.ld .*`nooks sdk --ldflags`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // objdump calls such a file an unknown format: the error read as a missing binutils, with no code
  it('a driver whose dynamic symbols name no string table (sh_link): ENOTELF, naming it, before objdump', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-inject-'));
    try {
      const elf = readFileSync(driverPath('ticker'));
      const dynsym = sections(elf).findIndex((s) => s.type === 11 /* SHT_DYNSYM */);
      elf.writeUInt32LE(0xffff, elf.readUInt32LE(0x28) + dynsym * 64 + 0x28); // e_shoff: its header's sh_link
      writeFileSync(join(dir, 'damaged.so'), elf);
      expect(() => planFault(join(dir, 'damaged.so'), { seed: 1 })).toThrow(expect.objectContaining({
        code: 'ENOTELF', message: expect.stringMatching(/string table \(sh_link\) is out of range/),
      }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('each binary type changes the chosen instruction as described', () => {
    const d = disassemble(driverPath('e1000'));
    for (const type of binaryTypes) {
      for (let seed = 1; seed <= 10; seed++) {
        const f = planFault('e1000', { seed, type });
        const before = hex(f.patch!.before), after = hex(f.patch!.after);
        const insn = d.instructions.find((i) => i.offset === f.patch!.offset)!;
        expect(insn.bytes.equals(before), type).toBe(true);
        expect(after.length, type).toBe(before.length);
        const diff = [...before].flatMap((b, k) => (b === after[k] ? [] : [k]));
        const cc = insn.bytes.length === 2 ? 0 : 1; // the condition nibble of 7x rel8 or 0f 8x rel32
        switch (type) {
          case 'flip-bit':
            expect(diff).toHaveLength(1);
            expect(bits(before[diff[0]], after[diff[0]])).toBe(1);
            break;
          case 'nop':
          case 'remove-init':
            expect([...after].every((b) => b === 0x90)).toBe(true);
            if (type === 'remove-init') expect(insn.mnemonic).toMatch(/^mov/), expect(insn.operands).toMatch(/\)$/);
            break;
          case 'corrupt-register': {
            const m = decode(before)!.modrm!;
            expect(diff).toEqual([m]);
            expect(after[m] >> 6).toBe(before[m] >> 6); // same addressing form: only a register field changed
            break;
          }
          case 'invert-branch':
            expect(insn.mnemonic).toMatch(/^j/);
            expect(diff).toEqual([cc]);
            expect(before[cc] ^ after[cc]).toBe(1);
            break;
          case 'off-by-one':
            expect(diff).toEqual([cc]);
            expect([[0x2, 0x6], [0x3, 0x7], [0xc, 0xe], [0xd, 0xf]].some(([a, b]) =>
              ((before[cc] & 0xf) === a && (after[cc] & 0xf) === b) || ((before[cc] & 0xf) === b && (after[cc] & 0xf) === a))).toBe(true);
            break;
          case 'corrupt-pointer':
            expect(insn.operands).toMatch(/\(/);
            expect(diff.length).toBe(1);
            break;
          case 'alloc-fail':
            expect(insn.target).toMatch(/^(kmalloc|kzalloc|dma_alloc_coherent)@plt$/);
            expect(f.patch!.after).toBe('31c00f1f00');
            break;
        }
      }
    }
  });

  it('a targeted fault jumps from a function entry to the runtime\'s bug, or arms the driver\'s own hook', () => {
    const d = disassemble(driverPath('pcm'));
    for (const type of targetedTypes.filter((t) => t !== 'null-deref')) {
      const f = planFault('pcm', { seed: 3, type });
      const after = hex(f.patch!.after);
      expect(f.patch!.offset).toBe(d.functions.find((x) => x.name === f.site.function)!.start);
      expect(after[0]).toBe(0xbf);
      expect(after.readInt32LE(1)).toBe(targetedTypes.indexOf(type));
      expect(after[5]).toBe(0xe9);
      expect(f.patch!.offset + 10 + after.readInt32LE(6)).toBe(d.symbol('nooks_lkdtm'));
    }
    expect(planFault('pcm', { seed: 3, type: 'null-deref' }).hook).toBe('crash_next_pointer');
  });
});

describe('injected into a loaded driver (mprotect)', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect', policy: { default: { ...defaultPolicy.default, maxFailures: 100 }, drivers: new Map() } });
  afterEach(() => kernel().driver('crashy')?.unload());

  // wild_write's store through %rdi redirected to a register the call sets to 0
  const pointerFault = (transient: boolean): InjectedFault => {
    for (let seed = 1; ; seed++) {
      const f = planFault('crashy', { seed, type: 'corrupt-pointer', fn: 'wild_write', transient });
      if ([1, 2, 6].includes(hex(f.patch!.after)[2] & 7)) return f; // rcx, rdx or rsi
    }
  };
  const writeFault = (d: Driver) => faultOf(() => d.call('wild_write', 0x10, 0, 0, 0));

  // Planner 4 drew, for this seed, a bit of memtest's `jle` at 0x1162 (0f 8e da) flipped into 0f ae da, a
  // WRFSBASE the loader refuses: EPATCH, and the trial could not be set up. Such a fault is drawn again.
  it('a binary fault the planner draws is one the loader takes: never a WRPKRU, XRSTOR or WR{FS,GS}BASE sequence', async () => {
    const f = planFault('memtest', { seed: 13150, type: 'flip-bit', exported: true });
    const d = await kernel().load('memtest', { patches: [textPatch(f)!] });
    expect(d.state).toBe('running');
    d.unload();
  });

  it('a persistent binary fault applied at load shows, is trapped, and is still there after recovery', async () => {
    const d = await kernel().load('crashy', { patches: [textPatch(pointerFault(false))!] });
    for (let i = 0; i < 2; i++) {
      const f = writeFault(d);
      expect(f.kind).toBe('segv');
      expect(f.address).toBe('0x0'); // the unpatched store would fault at 0x10
      expect(d.state).toBe('running');
    }
    expect(d.call('add', 2, 3)).toBe(5); // the host and the rest of the driver are fine
  });

  it('a transient binary fault injected at run time is gone after the recovery it caused', async () => {
    const d = await kernel().load('crashy');
    expect(writeFault(d).address).toBe('0x10');
    d.patchText(textPatch(pointerFault(true))!);
    expect(writeFault(d).address).toBe('0x0');
    expect(writeFault(d).address).toBe('0x10'); // the original store again
  });

  it('a corrupted register shows as a wrong answer, not a fault; explicit recovery removes it when transient', async () => {
    const d = await kernel().load('crashy');
    // lea (%rdi,%rsi,1),%rax with another destination: not %rsp or %rbp (that would fault at the ret)
    let seed = 1;
    while ([4, 5].includes((hex(planFault('crashy', { seed, type: 'corrupt-register', fn: 'add' }).patch!.after)[2] >> 3) & 7)) seed++;
    d.patchText(textPatch(planFault('crashy', { seed, type: 'corrupt-register', fn: 'add', transient: true }))!);
    expect(d.call('add', 2, 3)).not.toBe(5);
    d.recover();
    expect(d.call('add', 2, 3)).toBe(5);
  });

  it('targeted faults: BUG() trapped as an illegal instruction, the endless loop by the watchdog; persistent ones recur', async () => {
    const d = await kernel().load('crashy', { timeBudgetMs: 200 });
    d.patchText(textPatch(planFault('crashy', { seed: 1, type: 'panic', fn: 'add', transient: false }))!);
    expect(faultOf(() => d.call('add', 2, 3)).kind).toBe('ill');
    expect(faultOf(() => d.call('add', 2, 3)).kind).toBe('ill');
    d.unload();
    const e = await kernel().load('crashy', { timeBudgetMs: 200 });
    e.patchText(textPatch(planFault('crashy', { seed: 1, type: 'endless-loop', fn: 'data_value', transient: true }))!);
    expect(faultOf(() => e.call('data_value')).kind).toBe('timeout');
    expect(e.call('data_value')).toBe(42);
    expect(faultOf(() => e.call('stack_overflow', 0)).kind).toBe('stack-overflow'); // the driver's own bug, for comparison
    e.patchText(textPatch(planFault('crashy', { seed: 1, type: 'stack-overflow', fn: 'add', transient: true }))!);
    expect(faultOf(() => e.call('add', 2, 3)).kind).toBe('stack-overflow');
  });

  it('a buffer overrun runs off the heap into its guard page: trapped inside the domain, the host untouched', async () => {
    // 64 MiB written from a 64-byte block of a 16 MiB heap: without the guard it reaches the next mapping (host memory)
    const d = await kernel().load('crashy', { memLimitBytes: 16 << 20 });
    d.patchText(textPatch(planFault('crashy', { seed: 1, type: 'buffer-overrun', fn: 'add', transient: true }))!);
    expect(faultOf(() => d.call('add', 2, 3)).kind).toBe('segv');
    expect(d.call('add', 2, 3)).toBe(5);
  });

  it('a hook whose fault strikes before the arming call returns: the injection succeeds, the driver is recovered', async () => {
    // under 'process' the armed fault can strike on another thread of the driver and end the arming call with it;
    // a hook that faults at once is that case made certain
    const d = await kernel().load('crashy');
    const fault = { ...planFault('crashy', { seed: 1, type: 'null-deref', fn: 'add', transient: true }), kind: 'targeted', hook: 'null_deref' } as const;
    const before = kernel().events().length;
    expect(() => applyFault(kernel(), d, { ...fault, patch: undefined })).not.toThrow();
    expect(kernel().events().slice(before).map((e) => `${e.event} ${e.driver}`)).toEqual(['fault crashy', 'recovering crashy', 'recovered crashy']);
    expect(d.call('add', 2, 3)).toBe(5);
  });

  it('refuses patches outside the text and patches that would create a WRPKRU', async () => {
    const d = await kernel().load('crashy');
    const add = disassemble(driverPath('crashy')).symbol('add')!;
    expect(() => d.patchText({ offset: 0x10_0000, bytes: Buffer.from([0x90]), transient: true })).toThrow(/not inside the driver's text/);
    expect(() => d.patchText({ offset: add, bytes: Buffer.from([0x0f, 0x01, 0xef]), transient: true })).toThrow(/WRPKRU/);
    expect(d.call('add', 2, 3)).toBe(5);
    d.unload();
    await expect(kernel().load('crashy', { patches: [{ offset: add, bytes: Buffer.from([0x0f, 0x01, 0xef]), transient: false }] }))
      .rejects.toMatchObject({ code: 'EPATCH' });
  });

  // dlopen maps the text's last page whole: its bytes past the segment are executable too, and the load's scan
  // reads them (loader.cc mapped_file_pages). Before, the patch's check stopped at the segment's end.
  it('refuses a patch at the text\'s end that makes a WRPKRU with a byte of its last page past it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-inject-'));
    try {
      const elf = readFileSync(driverPath('crashy'));
      const text = Array.from({ length: elf.readUInt16LE(0x38) }, (_, i) => elf.readUInt32LE(0x20) + i * elf.readUInt16LE(0x36))
        .find((o) => elf.readUInt32LE(o) === 1 /* PT_LOAD */ && (elf.readUInt32LE(o + 4) & 1) /* PF_X */)!;
      const [offset, vaddr, filesz] = [8, 0x10, 0x20].map((at) => Number(elf.readBigUInt64LE(text + at)));
      expect((vaddr + filesz) % 4096).not.toBe(0); // a tail to write in
      elf[offset + filesz] = 0xef; // the first byte past the segment, in its last page: alone, no sequence
      writeFileSync(join(dir, 'crashy-tail.so'), elf);
      const d = await kernel().load(join(dir, 'crashy-tail.so'));
      expect(() => d.patchText({ offset: vaddr + filesz - 2, bytes: Buffer.from([0x0f, 0x01]), transient: true })).toThrow(/WRPKRU/);
      expect(d.call('add', 2, 3)).toBe(5);
      d.unload();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The trials arm a hook from a timer, and again at each recovery, once they saw the driver running: a fault on
// another of its threads can fail it before the arming call enters. Before, that call's DriverUnavailable
// escaped the timer and ended the trial's process (the player's shadowed trial: 'crash', exit status 1). A
// transient (one-shot) fault not armed then is armed at that failure's recovery: it strikes once all the same.
describe('a hook armed on a driver that failed on another of its threads', () => {
  const kernel = kernelPerBlock({ isolation: suiteIsolation });
  // made by a hook, not as the suite is collected: a run that leaves the suite out (-t) runs neither hook
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-inject-failed-'));
  });
  afterAll(() => {
    releaseTeardown(); // a test that failed while the teardown waited
    rmSync(dir, { recursive: true, force: true });
  });

  it('is no error of the injection; a one-shot is armed at the recovery, and strikes once', async () => {
    kernel().addDevice('pcm', { playback: join(dir, 'played.wav') });
    const d = await kernel().load('pcm');
    let recoveries = 0;
    kernel().on('recovered', (e) => { if (e.driver === d.name) recoveries++; });
    const p = openPcm(kernel(), 'pcm0', { rate: 16000, channels: 1 });
    await p.write(tone(16000, 1, 440, 2));
    await until(() => p.status().framesDone >= 2000, 'playback under way');
    const logged = logFromNow(kernel());
    holdTeardown(d);
    expect(d.call('crash_next_pointer')).toBe(0); // the stream's thread faults at its next pointer()
    await until(() => logged('pcm: test hold').length > 0, 'the teardown to wait at the hold', 5_000);
    const fault = planFault('pcm', { seed: 1, type: 'null-deref' });
    expect(fault).toMatchObject({ hook: 'crash_next_pointer', transient: true });
    expect(() => applyFault(kernel(), d, fault)).not.toThrow();
    releaseTeardown();
    await until(() => recoveries === 2, 'the one-shot, armed at the recovery, to strike', 5_000);
    await until(() => d.state === 'running', 'the driver restarted', 5_000);
    const framesDone = p.status().framesDone;
    await until(() => p.status().framesDone >= framesDone + 4000, 'playback going on after it', 5_000);
    expect(recoveries).toBe(2); // once: not armed again
    p.close();
  });

  // Before: the listener let go of a one-shot only once arm() returned, but a fault that ends the arming call itself
  // (under 'process' every call in flight ends) is recovered inside that call: its 'recovered' armed it again,
  // and again, until the driver was disabled (5 faults, not 2).
  it('a one-shot whose arming call at the recovery is ended by its own fault is not armed again by that fault\'s recovery', async () => {
    const d = await kernel().load('crashy');
    const from = kernel().events().length; // an earlier test's crashy failed in this kernel too
    const faults = () => kernel().events().slice(from).filter((e) => e.event === 'fault' && e.driver === d.name).length;
    expect(d.call('timer_fault', 1)).toBe(0);
    const bound = Date.now() + 10_000;
    while (d.state !== 'failed' && Date.now() < bound); // the event loop held: the driver failed, its report not yet run
    expect(d.state).toBe('failed');
    applyFault(kernel(), d, { hook: 'null_deref', transient: true } as InjectedFault); // not armed: at the recovery
    await until(() => faults() >= 2 && (d.state === 'running' || d.state === 'disabled'), "the timer's fault, then the one-shot's, recovered");
    expect(faults()).toBe(2);
    expect(d.state).toBe('running');
    d.unload();
  });
});

// A persistent hook fault that ends its own arming call, under a policy that allows 1000 failures (nooks demo's crashy policy): its driver fails
// 1000 times, each recovered inside an arming call.
// Before: a persistent fault listened for recoveries only once its arming call returned; one that ended that call
// was recovered inside it, unheard, and never struck again (1 fault, the driver running).
// Before: the recovery's 'recovered' armed it again inside the call that had ended, each recovery one call deeper:
// the stack overflowed after some 500 (a RangeError, a listener's warning), the fault struck no more, and the driver
// was never disabled (left running, or failed).
describe('a persistent hook fault that ends its own arming call', () => {
  const maxFailures = 1000;
  // the policy's window longer than the test: however slow the recoveries (36 ms each under 'process'), every failure counts
  const policy = {
    default: { ...defaultPolicy.default, maxFailures, windowMs: 24 * 3_600_000 },
    drivers: new Map<string, DriverPolicy>([['replaced', { ...defaultPolicy.default, action: 'fallback', fallback: 'ticker', maxFailures: 1 }]]),
  };
  const kernel = kernelPerBlock({ isolation: suiteIsolation, policy });
  const events = ['recovered', 'disabled', 'fallback'] as const;

  it('strikes again after each recovery, one arming call after another, until the policy disables the driver', async () => {
    const d = await kernel().load('crashy');
    const listening = events.map((e) => kernel().listenerCount(e));
    expect(() => applyFault(kernel(), d, { hook: 'no_such_hook', transient: false } as InjectedFault)).toThrow(/exports no function 'no_such_hook'/);
    expect(events.map((e) => kernel().listenerCount(e))).toEqual(listening); // a fault that could not be armed leaves no listener
    const seen = { fault: 0, recovered: 0, disabled: 0 };
    const depths = new Set<number>(); // the stack's depth at each recovery
    const count = (e: RecoveryEvent) => { if (e.driver === d.name) seen[e.event as keyof typeof seen]++; };
    const onRecovered = (e: RecoveryEvent) => { count(e); depths.add(stackDepth()); };
    kernel().on('fault', count).on('recovered', onRecovered).on('disabled', count);
    try {
      applyFault(kernel(), d, { hook: 'null_deref', transient: false } as InjectedFault); // each recovery runs inside an arming call
    } finally {
      kernel().off('fault', count).off('recovered', onRecovered).off('disabled', count);
    }
    expect(seen).toEqual({ fault: maxFailures, recovered: maxFailures - 1, disabled: 1 });
    expect(d.state).toBe('disabled');
    expect(depths.size).toBe(1); // every recovery at the same depth: none nested in the one before
    expect(events.map((e) => kernel().listenerCount(e))).toEqual(listening); // the disabled driver's fault let go
    // Before: a fault applied to the disabled driver stayed listening for good (no event comes for it): [1, 1, 1]
    applyFault(kernel(), d, { hook: 'null_deref', transient: false } as InjectedFault);
    expect(events.map((e) => kernel().listenerCount(e))).toEqual(listening);
    d.unload();
  });

  // Before: its listener stayed on the kernel for good, and armed the fallback driver's hook of that name at its
  // recoveries (or threw, a warning, where it had none)
  it('lets go when its driver is replaced by its fallback, or unloaded', async () => {
    const listening = events.map((e) => kernel().listenerCount(e));
    const replaced = await kernel().load('crashy', { name: 'replaced' });
    applyFault(kernel(), replaced, { hook: 'null_deref', transient: false } as InjectedFault); // its first fault: ticker in its place
    expect(replaced.path).toBe(driverPath('ticker'));
    expect(events.map((e) => kernel().listenerCount(e))).toEqual(listening); // the fault went with crashy's binary
    replaced.unload();

    const d = await kernel().load('crashy');
    let recoveries = 0;
    const recovered = (e: RecoveryEvent) => { if (e.driver === d.name) recoveries++; };
    kernel().on('recovered', recovered);
    applyFault(kernel(), d, { hook: 'timer_fault', transient: false } as InjectedFault); // strikes on its timer's thread
    await until(() => recoveries >= 1 && d.state === 'running', 'the timer fault recovered, and armed again');
    kernel().off('recovered', recovered);
    d.unload();
    const other = await kernel().load('crashy', { name: 'other' });
    other.recover(); // no event says a driver was unloaded: the next one, any driver's, lets go
    expect(events.map((e) => kernel().listenerCount(e))).toEqual(listening);
    other.unload();
  });
});

/** How many frames deep the caller is. */
function stackDepth(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  try {
    return new Error().stack!.split('\n').length;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

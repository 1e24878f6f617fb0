// A driver that breaks the calling convention: it returns with the host's
// callee-saved registers (rbx, rbp, r12-r15) overwritten, as a corrupted
// function pointer or a jump into the middle of a function can. The crossing
// must not trust them on the way back (native/xpc/macros_x86_64.inc,
// AFTER_DRIVER): the kernel goes on, in a child process so that a crash is seen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { kernelCalls } from '../lib/wrappers/kapi.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-callee-saved-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const so = fixtureDriver('clobber'); // test/fixtures/drivers/clobber.c

const modes = bootableIsolations.filter((i) => i !== 'none');

/**
 * The file's cases: each a body run with `k` a kernel booted under the mode,
 * `d` the driver loaded and `DriverFault` in scope, whose `out` is what the
 * case returns. One child process per mode runs every case, each in a kernel
 * of its own, so that a crash is seen: the guest's pkey list runs this file
 * under TCG, where a child for each case and mode (18) took 8-20 s, 203 s in all.
 */
const cases: string[] = [];
const results = new Map<string, Promise<unknown[]>>();

/** Registers `body` (as the file loads, before beforeAll starts the children); what it returned under a mode. */
function inChild(body: string): (isolation: string) => Promise<unknown> {
  const index = cases.push(body) - 1;
  return async (isolation) => (await results.get(isolation)!)[index];
}

/** Runs every case under `isolation` in one child, which must exit 0 and not by a signal. */
async function runCases(isolation: string): Promise<unknown[]> {
  const script = `
    const { Kernel, DriverFault } = await import(${JSON.stringify(join(packageRoot, 'dist', 'lib', 'index.js'))});
    const results = [];
    ${cases.map((body, i) => `
    {
      console.error('case ${i}'); // which case a crash ended
      const k = await Kernel.boot({ isolation: ${JSON.stringify(isolation)} });
      const d = await k.load(${JSON.stringify(so)});
      const out = [];
      ${body}
      await k.shutdown();
      results.push(out);
    }`).join('')}
    console.log(JSON.stringify(results));`;
  // --allow-natives-syntax: a case optimizes a function of its own on purpose
  const r = await runNode(['--allow-natives-syntax', '--input-type=module', '-e', script], dir, 30_000 * cases.length);
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const returned = inChild("for (let i = 0; i < 3; i++) out.push(d.call('clobber'), d.call('add', i, 1));");
describe('a driver that does not preserve the callee-saved registers', () => {
  it.each(modes)('%s: the call returns its value and the kernel goes on', async (isolation) => {
    expect(await returned(isolation)).toEqual([7, 1, 7, 2, 7, 3]);
  });
});

// The other way: the host's callee-saved registers held host addresses (the
// crossing's own frame among them) that driver code could write through
// under mprotect. The driver finds them zeroed.
const found = inChild("out.push(d.call('host_regs'), d.call('add', 1, 1), d.call('host_regs'));");
describe('a driver is entered with none of the host registers', () => {
  it.each(modes)('%s: rbx, rbp and r12-r15 are zero at the driver\'s entry', async (isolation) => {
    expect(await found(isolation)).toEqual([0, 2, 0]);
  });
});

// A driver that wrecks its stack pointer and jumps out of its code: neither
// its stack nor its code says whose fault it is, but the thread was inside
// it, and on none of the kernel's stacks. Before, the fault went to Node's
// handler and the process died (SIGSEGV).
const wrecked = inChild(`
  try { d.call('wreck'); } catch (e) { out.push(e instanceof DriverFault ? e.kind : String(e)); }
  while (d.state !== 'running') await new Promise((r) => setTimeout(r, 5));
  out.push(d.call('add', 1, 1));`);
describe('a driver that wrecks its stack pointer and jumps out of its code', () => {
  it.each(modes)('%s: a DriverFault, the driver restarted, the kernel goes on', async (isolation) => {
    expect(await wrecked(isolation)).toEqual(['segv', 2]);
  });
});

// A jump into a kernel-call stub past the instruction that loads its index
// (r11): the index is whatever the driver left there. The upcall bounds it
// (CALL_KAPI, native/xpc/macros_x86_64.inc); before, the host called through
// the table at that index: one past the end ran what follows the checked
// table (an unchecked body), one far past read unmapped memory and the
// process died (SIGSEGV).
const count = kernelCalls.length; // kmalloc is 0, the last call count - 1
const called = inChild(`
  for (const index of [0, ${count - 1}, ${count}, 2 ** 32, -1]) {
    try { out.push(typeof d.call('wild_upcall', index, 64)); } catch (e) { out.push(e instanceof DriverFault ? [e.kind, /which does not exist/.test(e.message)] : String(e)); }
    while (d.state !== 'running') await new Promise((r) => setTimeout(r, 5));
  }
  out.push(d.call('add', 1, 1));`);
describe('a driver that jumps into a kernel-call stub with an index of its own', () => {
  it.each(modes)('%s: an index past the table is a bad call, the driver restarted, the kernel goes on', async (isolation) => {
    // kmalloc(64) returns a pointer; the last call (futex_dec_wake(64)) refuses the address; the rest do not exist
    expect(await called(isolation)).toEqual(['number', ['bad-call', false], ...Array(3).fill(['bad-call', true]), 2]);
  });
});

// A driver that returns, or calls the kernel, with the CPU's control state
// changed: the direction flag set (glibc's memset ran backwards from a 64 KiB
// kzalloc's block over the kernel's memory and the process died, SIGSEGV),
// alignment checks on (the process died of SIGBUS), flush-to-zero and
// round-up in MXCSR (JavaScript's arithmetic changed: Number.MIN_VALUE * 3
// was 0). Kernel code gets the ABI's flags and the host's MXCSR and x87
// control word back (native/xpc/macros_x86_64.inc, KERNEL_CPU_STATE and
// RESTORE_HOST_AND_RETURN).
//
// The x87 state a driver leaves, too (KERNEL_CPU_STATE empties the x87 stack
// at every upcall and on the way back, an unmasked exception left pending
// cleared first). MMX code without emms leaves every x87 register in use:
// V8's optimized double modulo (an x87 fprem) then overflowed its first load
// and gave NaN. An x87 exception left pending and unmasked is raised by the
// next waiting x87 instruction: emms at an upcall, or fldcw on the way back,
// raised it in kernel code, where no driver is to blame: the process died
// (SIGFPE).
const state = inChild(`
  const tiny = () => Number.MIN_VALUE * 3;
  out.push(d.call('cpu_state'), tiny());
  out.push(d.call('leave_state', 0x9fc0 | 0x4000, 0x37f & ~0x4 | 0xc00));
  out.push(d.call('cpu_state'), tiny(), Buffer.from(Buffer.alloc(1 << 16, 1).subarray(1)).length);
  out.push(d.call('zeroed_backwards', 1 << 16), d.call('add', 1, 1));
  function mod(a, b) { return a % b; }
  %PrepareFunctionForOptimization(mod);
  mod(5.5, 2);
  %OptimizeFunctionOnNextCall(mod);
  out.push(mod(5.5, 2));
  d.call('mmx_left', 1);
  out.push(mod(5.5, 2), mod(7.25, 3));
  out.push(d.call('x87_pending_kcall'), d.call('x87_pending_return'), d.call('add', 1, 1));`);
// A fault with alignment checks on: Linux clears the direction flag for a
// signal handler, not AC, and an unaligned store in nooks' handler (the
// compiler's movups into the fault's record) raised SIGBUS there: the
// process died (mprotect: rc 139), or the driver's host process did
// (process: "killed by signal 11" in place of the driver's fault).
// native/trap/trap.h, clear_alignment_check. (Not a misaligned access of
// the driver's own: whether AC raises it is the CPU's, and QEMU's TCG, the
// guest's pkey list, does not.)
const aligned = inChild(`
  for (const fn of ['ac_null', 'ac_spin']) {
    try { out.push(d.call(fn)); } catch (e) { out.push(e instanceof DriverFault ? [e.kind, e.message.includes(fn)] : String(e)); }
    while (d.state !== 'running') await new Promise((r) => setTimeout(r, 5));
  }
  out.push(d.call('add', 1, 1));`);
describe("a driver that leaves the CPU's control state changed", () => {
  it.each(modes)("%s: kernel code and JavaScript run with the host's, and the driver finds it at its next entry", async (isolation) => {
    const host = 0x037f1f80; // the x87 control word and MXCSR at start-up, no flag set
    expect(await state(isolation)).toEqual([
      host, 1.5e-323, 0, host, 1.5e-323, (1 << 16) - 1, 0, 2,
      1.5, 1.5, 1.25, // the modulo before and after the MMX state left (NaN, null in JSON, after it)
      1, 0, 2, // a kernel call and a return with an x87 exception pending
    ]);
  });

  it.each(modes)('%s: a fault, or a loop past the time budget, with alignment checks on is the driver\'s fault', async (isolation) => {
    expect(await aligned(isolation)).toEqual([['segv', true], ['timeout', true], 2]);
  });
});

// every case registered: each mode's child at once (a failed one fails its mode's tests), 30 s a case as each had
// in a child of its own
beforeAll(async () => {
  for (const m of modes) results.set(m, runCases(m));
  await Promise.allSettled(results.values());
}, 30_000 * cases.length);

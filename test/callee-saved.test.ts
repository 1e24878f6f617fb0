// A driver that breaks the calling convention: it returns with the host's
// callee-saved registers (rbx, rbp, r12-r15) overwritten, as a corrupted
// function pointer or a jump into the middle of a function can. The crossing
// must not trust them on the way back (native/xpc/macros_x86_64.inc,
// AFTER_DRIVER): the kernel goes on, in a child process so that a crash is seen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-callee-saved-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const so = buildDriver(dir, 'clobber', [
  '#include <nooks/kapi.h>',
  'static int ok(void) { return 0; }',
  'module_init(ok);',
  'NOOKS_EXPORT long add(long a, long b) { return a + b; }',
  // every callee-saved register overwritten, then a plain return of 7
  '__asm__(".globl clobber\\n.type clobber,@function\\nclobber:\\n"',
  '  "mov $0x1111, %rbx\\nmov $0x2222, %rbp\\nmov $0x3333, %r12\\nmov $0x4444, %r13\\nmov $0x5555, %r14\\nmov $0x6666, %r15\\n"',
  '  "mov $7, %eax\\nret\\n.size clobber, .-clobber\\n");',
  // the callee-saved registers as the driver finds them: or-ed together
  '__asm__(".globl host_regs\\n.type host_regs,@function\\nhost_regs:\\n"',
  '  "mov %rbx, %rax\\nor %rbp, %rax\\nor %r12, %rax\\nor %r13, %rax\\nor %r14, %rax\\nor %r15, %rax\\n"',
  '  "ret\\n.size host_regs, .-host_regs\\n");',
  // a stack pointer on no stack, then a jump out of the driver's code (to 0)
  '__asm__(".globl wreck\\n.type wreck,@function\\nwreck:\\n"',
  '  "xor %eax, %eax\\nmov %rax, %rsp\\njmp *%rax\\n.size wreck, .-wreck\\n");',
].join('\n'));

const modes = ['mprotect', 'process', ...(Kernel.pkuSupported() ? ['pkey'] : [])];

/**
 * Runs `body` in a child process, with `k` a kernel booted under `isolation`,
 * `d` the driver loaded and `DriverFault` in scope; `out`, printed as JSON, is
 * what it returns. The child must exit 0 and not by a signal.
 */
async function inChild(isolation: string, body: string): Promise<unknown> {
  const script = `
    const { Kernel, DriverFault } = await import(${JSON.stringify(join(packageRoot, 'dist', 'lib', 'index.js'))});
    const k = await Kernel.boot({ isolation: ${JSON.stringify(isolation)} });
    const d = await k.load(${JSON.stringify(so)});
    const out = [];
    ${body}
    await k.shutdown();
    console.log(JSON.stringify(out));`;
  const r = await runNode(['--input-type=module', '-e', script], dir, 30_000);
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('a driver that does not preserve the callee-saved registers', () => {
  it.each(modes)('%s: the call returns its value and the kernel goes on', async (isolation) => {
    expect(await inChild(isolation, "for (let i = 0; i < 3; i++) out.push(d.call('clobber'), d.call('add', i, 1));")).toEqual([7, 1, 7, 2, 7, 3]);
  });
});

// The other way: the host's callee-saved registers held host addresses (the
// crossing's own frame among them) that driver code could write through
// under mprotect. The driver finds them zeroed.
describe('a driver is entered with none of the host registers', () => {
  it.each(modes)('%s: rbx, rbp and r12-r15 are zero at the driver\'s entry', async (isolation) => {
    expect(await inChild(isolation, "out.push(d.call('host_regs'), d.call('add', 1, 1), d.call('host_regs'));")).toEqual([0, 2, 0]);
  });
});

// A driver that wrecks its stack pointer and jumps out of its code: neither
// its stack nor its code says whose fault it is, but the thread was inside
// it, and on none of the kernel's stacks. Before, the fault went to Node's
// handler and the process died (SIGSEGV).
describe('a driver that wrecks its stack pointer and jumps out of its code', () => {
  it.each(modes)('%s: a DriverFault, the driver restarted, the kernel goes on', async (isolation) => {
    const body = `
      try { d.call('wreck'); } catch (e) { out.push(e instanceof DriverFault ? e.kind : String(e)); }
      while (d.state !== 'running') await new Promise((r) => setTimeout(r, 5));
      out.push(d.call('add', 1, 1));`;
    expect(await inChild(isolation, body)).toEqual(['segv', 2]);
  });
});

// Under isolation 'mprotect', kernel code that touches a closed driver's
// memory opens that driver (native/isolation/mprotect/mprotect.cc): to what
// its driver may touch, its heap, DMA arena and the stacks of its threads,
// never the guard pages between the stacks nor the stacks no thread uses. The
// stacks' reservation is address space only (128 slots of a guard and a
// stack): made writable whole it would count as private writable memory, all
// of it charged to the commit under strict overcommit (vm.overcommit_memory=2).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-open-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Where the calling thread's stack in the driver ends, and a stack's size.
const source = `
#include <nooks/kapi.h>
#include <nooks/thread_area.h>

NOOKS_EXPORT long stack_top(void)
{
	return (long)(((unsigned long)__builtin_frame_address(0) | (NOOKS_STACK_BYTES - 1)) + 1);
}

NOOKS_EXPORT long stack_bytes(void) { return NOOKS_STACK_BYTES; }

static int probe_init(void) { return 0; }
module_init(probe_init);
`;

/** The permissions (/proc/self/maps: 'rw-p', '---p') of the page at `address`. */
function protectionAt(address: number): string {
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const [range, perms] = line.split(' ');
    const [lo, hi] = (range ?? '').split('-').map((x) => parseInt(x, 16));
    if (lo !== undefined && hi !== undefined && address >= lo && address < hi) return perms!;
  }
  return 'unmapped';
}

const kernel = kernelPerBlock({ isolation: 'mprotect' });
let probe: Driver;
let other: Driver;
beforeAll(async () => {
  probe = await kernel().load(buildDriver(dir, 'stack_probe', source));
  other = await kernel().load('crashy');
}, 60_000);

it("kernel code opens a closed driver as its driver has it: its heap and used stack, not its guards nor its unused stacks", () => {
  const top = Number(probe.call('stack_top'));
  const size = Number(probe.call('stack_bytes'));
  const block = probe.alloc(8);
  expect(other.call('add', 1, 2)).toBe(3); // probe is closed now
  expect(protectionAt(block)).toBe('---p');
  probe.write(block, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); // kernel code in probe's closed heap: opened on the fault
  expect(protectionAt(block)).toBe('rw-p');
  expect(protectionAt(top - size)).toBe('rw-p'); // this thread's stack
  expect(protectionAt(top - size - 1)).toBe('---p'); // the guard below it
  expect(protectionAt(top)).toBe('---p'); // the guard of the slot above
  expect(kernel().domains().find((d) => d.name === probe.name)!.threads).toBe(1); // no other thread has a stack in probe
  expect(protectionAt(top + size)).toBe('---p'); // so the stack of the slot above is unused
  probe.free(block);
});

it('a driver that kernel code opened overflows its stack into its guard: a stack-overflow fault', () => {
  const block = other.alloc(8);
  probe.call('stack_bytes'); // other is closed now
  other.write(block, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); // opened by kernel code
  expect(faultOf(() => other.call('stack_overflow', 0)).kind).toBe('stack-overflow');
  expect(other.state).toBe('running'); // restarted
});

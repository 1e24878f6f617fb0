// Under isolation 'mprotect', a thread's first entry into a driver gives it a
// stack there (domain_thread). While another driver runs, that driver's
// domain is closed, and so must its new stack be: it opens under the
// mprotect lock, as the domain's view has it (native/isolation/mprotect). Here
// `target`'s interrupt comes while `prober`'s work item runs: the irq thread,
// new to `target`, waits for the lock, and prober tries to write where its
// stack lies.
//
// No timers: prober's work item waits (holding the lock, in driver code) until
// the irq thread and this test's thread both wait on the same futex, which
// only the mprotect lock can be (this thread waits in prober.call, the irq
// thread wherever its crossing stops for the lock), and only then probes.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-new-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = 21;

// Counts its interrupts and says where the stack they ran on ends.
const targetSource = `
#include <nooks/kapi.h>
#include <nooks/thread_area.h>

static long irq_stack_top;

static long frame_stack_top(void)
{
	return (long)(((unsigned long)__builtin_frame_address(0) | (NOOKS_STACK_BYTES - 1)) + 1);
}

static irqreturn_t on_irq(int irq, void *dev)
{
	(void)irq;
	(void)dev;
	irq_stack_top = frame_stack_top();
	return IRQ_HANDLED;
}

NOOKS_EXPORT long stack_top(void) { return frame_stack_top(); }
NOOKS_EXPORT long stack_bytes(void) { return NOOKS_STACK_BYTES; }
NOOKS_EXPORT long attach(long irq) { return request_irq(irq, on_irq, 0, "target", NULL); }
NOOKS_EXPORT long detach(long irq) { free_irq(irq, NULL); return 0; }
NOOKS_EXPORT long last_irq_stack_top(void) { return irq_stack_top; }

static int target_init(void) { return 0; }
module_init(target_init);
`;

// Its work item holds the mprotect lock (it runs driver code, and makes no
// kernel call that waits) until both threads wait on one futex, then tries
// clock_gettime into the address: a system call, so an inaccessible page
// gives EFAULT, not a fault.
const proberSource = `
#include <nooks/kapi.h>

static struct work_struct work;
static const char *irq_thread_state, *test_thread_state; /* /proc/self/task/<tid>/syscall */
static unsigned long address;
static long verdict = -1;

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

/* The futex word the thread waits on (0 while it does anything else): /proc's line is "202 0x<word> ...". */
static unsigned long futex_waited(const char *path)
{
	char line[256];
	unsigned long word = 0;
	long fd = sys3(257 /* openat */, -100 /* AT_FDCWD */, (long)path, 0), n;
	if (fd < 0)
		return 0;
	n = sys3(0 /* read */, fd, (long)line, sizeof line - 1);
	sys3(3 /* close */, fd, 0, 0);
	if (n < 6 || strncmp(line, "202 0x", 6) != 0)
		return 0;
	for (long i = 6; i < n && line[i] != ' '; i++)
		word = word * 16 + (unsigned long)(line[i] <= '9' ? line[i] - '0' : line[i] - 'a' + 10);
	return word;
}

static void probe(struct work_struct *w)
{
	unsigned long idle = futex_waited(irq_thread_state), word;
	(void)w;
	printk("prober: holding the lock\\n");
	for (;;) {
		word = futex_waited(irq_thread_state);
		if (word && word != idle && word == futex_waited(test_thread_state))
			break;
	}
	verdict = sys3(228 /* clock_gettime */, 1 /* CLOCK_MONOTONIC */, (long)address, 0) == 0 ? 1 : 0;
}

NOOKS_EXPORT long start(long irq_thread, long test_thread, long at)
{
	irq_thread_state = (const char *)irq_thread;
	test_thread_state = (const char *)test_thread;
	address = (unsigned long)at;
	schedule_work(&work);
	return 0;
}

/* 1: the address was writable, 0: it was not, -1: not probed yet. */
NOOKS_EXPORT long result(void) { return verdict; }

static int prober_init(void)
{
	INIT_WORK(&work, probe);
	return 0;
}

static void prober_exit(void)
{
	cancel_work_sync(&work);
}

module_init(prober_init);
module_exit(prober_exit);
`;

const tasks = () => new Set(readdirSync('/proc/self/task'));

const kernel = kernelPerBlock({ isolation: 'mprotect' });
let target: Driver;
let prober: Driver;
beforeAll(async () => {
  target = await kernel().load(buildDriver(dir, 'target', targetSource));
  prober = await kernel().load(buildDriver(dir, 'prober', proberSource));
}, 60_000);

it("a new thread's stack in a closed driver is not writable by the driver that runs", () => {
  const top = Number(target.call('stack_top')); // this thread's stack: slot 0
  const size = Number(target.call('stack_bytes'));
  const before = tasks();
  expect(target.call('attach', line)).toBe(0); // starts the line's irq thread
  const irqThreads = [...tasks()].filter((tid) => !before.has(tid));
  expect(irqThreads).toHaveLength(1);
  expect(kernel().domains().find((d) => d.name === target.name)!.threads).toBe(1);
  const newStack = top + size; // slot 1: above slot 0's stack, past slot 1's guard

  const testThread = readlinkSync('/proc/thread-self').split('/').pop()!;
  const path = (tid: string) => prober.cstring(`/proc/self/task/${tid}/syscall`);
  prober.call('start', path(irqThreads[0]!), path(testThread), newStack);
  while (!kernel().log().some((l) => l.text.includes('prober: holding the lock'))); // the work item runs: the lock is its
  expect(kernel().raiseIrq(line)).toBe(true); // the irq thread enters target for the first time: it waits for the lock
  expect(Number(prober.call('result'))).toBe(0); // this thread waits for the lock too, until the probe is done

  while (Number(target.call('last_irq_stack_top')) === 0); // the interrupt ran once prober let the lock go
  expect(Number(target.call('last_irq_stack_top'))).toBe(newStack + size); // on the stack that was probed
  target.call('detach', line);
  expect(kernel().events()).toEqual([]);
});

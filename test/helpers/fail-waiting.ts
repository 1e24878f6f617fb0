// A driver failed while its threads wait in the kernel (test/posix-idle-waits,
// test/posix-sync): every wait ends at once and the recovery completes with
// none of the threads left.
import { expect } from 'vitest';
import type { Driver, Isolation, Kernel } from '../../lib/index.js';
import { tasksBackTo } from './tasks.js';
import { faultOf } from './util.js';

/** The C of the driver's `crash(long *at)` that failWhileWaiting calls (the driver includes <nooks/kapi.h>). */
export const crashSource = `
/* A fault on the host's thread, inside the driver while its threads wait. */
NOOKS_EXPORT long crash(long *at)
{
	*(volatile long *)at = 1;
	return 0;
}
`;

/**
 * Fails `d` (a fault on the host's thread in its exported `crash(long *at)`;
 * isolation 'none', which traps no fault, recovers it on purpose) and checks
 * that it is running again within 2 s with no thread object, the process back
 * to `tasksBefore` threads, and no log line of a thread that did not leave.
 */
export async function failWhileWaiting(kernel: Kernel, d: Driver, isolation: Isolation, tasksBefore: number): Promise<void> {
  const failed = performance.now();
  if (isolation === 'none') d.recover();
  else expect(faultOf(() => d.call('crash', 0)).kind).toBe('segv'); // the agent restarts the driver before call() throws
  expect(performance.now() - failed).toBeLessThan(2_000);
  expect(d.state).toBe('running');
  expect(d.objects().filter((o) => o.type === 'thread')).toEqual([]);
  await tasksBackTo(tasksBefore);
  expect(kernel.log().some((l) => l.source === d.name && /did not (leave|stop)/.test(l.text))).toBe(false);
}

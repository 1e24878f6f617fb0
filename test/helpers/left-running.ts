// The scenario of a thread left running (docs/recovery.md, "A thread left
// running"), shared by the tests that stall a driver thread's kernel call past
// a teardown: test/posix-left-running, posix-late-write and posix-late-register.
import { afterAll, beforeAll, expect } from 'vitest';
import type { Driver, Kernel } from '../../lib/index.js';
import { releaseStalledWaits, setTeardownWaits, stallNextWait } from '../../lib/testing.js';
import { until } from './util.js';

/** The teardown's waits shortened for the calling describe block: a thread is left running within 0.2 s, not 5 s. */
export function shortTeardownWaits(): void {
  beforeAll(() => setTeardownWaits(200));
  afterAll(() => setTeardownWaits());
}

/** The kernel log from now on: its lines that hold `text`. */
export function logFromNow(kernel: Kernel): (text: string) => string[] {
  const from = kernel.log().length;
  return (text) => kernel.log().slice(from).map((l) => l.text).filter((l) => l.includes(text));
}

/**
 * The driver's next wait in a kernel call stalls (stallNextWait; `busy`: nor
 * counts as a wait, which the watchdog times out); `start` starts the thread
 * that makes it. Returns once it has stalled.
 */
export async function stallThread(kernel: Kernel, d: Driver, start: () => void, { busy = false } = {}): Promise<void> {
  const logged = logFromNow(kernel);
  stallNextWait(d, { busy });
  start();
  await until(() => logged(`${d.name}: test stall`).length > 0, 'the thread stalled in its kernel call');
}

/** What happens around the thread's stall; each step may check the driver. */
export interface LeftRunningSteps {
  /** Starts the driver's thread whose kernel call stalls. */
  start: () => void;
  /** The stall does not count as a wait either (stallThread). */
  busy?: boolean;
  /** The thread stalled, before the teardown. */
  stalled?: () => void | Promise<void>;
  /** The teardown that gives up on the thread (default: the driver's recovery). */
  tearDown?: () => void;
  /** The thread left running, before its call returns. */
  left?: () => void | Promise<void>;
}

/**
 * A thread of `d` stalled in a kernel call (stallThread) past a teardown,
 * which leaves it running; then the call returns and the thread ends. Checks
 * that the teardown left it running, once, and that it ran no driver code
 * after (left-running.c, late-write.c and late-register.c log 'late thread' if it does).
 */
export async function leaveRunning(kernel: Kernel, d: Driver, steps: LeftRunningSteps): Promise<void> {
  const logged = logFromNow(kernel);
  try {
    await stallThread(kernel, d, steps.start, { busy: steps.busy });
    await steps.stalled?.();
    (steps.tearDown ?? (() => d.recover()))();
    expect(logged('did not stop; left running')).toHaveLength(1);
    await steps.left?.();
    releaseStalledWaits();
    await until(() => logged('ended after being left running').length > 0, 'the end of the thread left running');
  } finally {
    releaseStalledWaits(); // a step that failed: the next test's driver does not meet this thread
  }
  expect(logged('late thread')).toEqual([]);
}

// Test-only hooks, apart from the public API ('nooks/testing'): they make an
// emulated device or a driver misbehave, give a test the other end of a wire,
// show it a kernel object a wild write must not reach, hold a driver's thread
// inside a crossing, or reach a kernel mechanism before its public way in exists.
import type { Driver } from './kernel.js';
import { native } from './native.js';

export { hostProbe } from './host-probe.js';
export { pciSysfsForTest } from './pci.js';
export { netFailAfterConfigure, netHoldRegister, nicHangTx } from './classes/net.js';
export { holdRestoreForRx, ptyPair, serialHoldRegister, setSerialRxBuffer, uartRxHeld, uartRxLost, uartTxHeld } from './classes/serial.js';
export { pcmHoldDma, pcmHoldDownCrossing, pcmHoldRegister, pcmHoldRestore } from './classes/sound.js';

/**
 * Maps BAR `bar` of a device (bus index or name) bound to `driver` into the
 * driver's address space, as a POSIX driver's mmap of sysfs resource<bar>
 * will: on an emulated device, a range every load and store of which traps and
 * is performed on the model (MMIO trap-and-emulate). Returns the address; the
 * mapping is the driver's object, released at recovery.
 */
export function mapBar(driver: Driver, device: number | string, bar = 0): number {
  const index = typeof device === 'number' ? device : native().devices().find((d) => d.name === device)?.index;
  if (index === undefined) throw Object.assign(new Error(`[ENODEV] no device named ${device} on the bus`), { code: 'ENODEV' });
  return native().mapBar(driver.id, index, bar);
}

/**
 * The ends of interrupt of irq line `line` since the last call (0 at the
 * first), counted from now on as a real device's line would unmask: a host
 * stub driver (uio_pci_generic, vfio-pci) keeps the line masked from each
 * interrupt until then. `stop`: no longer counted.
 */
export function irqAcks(line: number, { stop = false } = {}): number {
  return native().countIrqAcks(line, !stop);
}

/**
 * From now on, each new thread of `driver` waits at its first crossing into
 * it, past the crossing's state check and before its count inside, until the
 * driver has failed and its teardown has taken its objects (10 s at most): a
 * thread slow in that window, which the teardown does not see inside
 * (test/entry-window.test.ts).
 */
export function holdNewThreads(driver: Driver): void {
  native().holdNewThreads(driver.id);
}

/**
 * From now on, the thread of each irq line `driver` requests waits before its
 * first line until free_irq has given up on it (10 s at most): a thread the
 * scheduler has not started yet when its line is freed (test/irq-unstarted.test.ts).
 */
export function holdNewIrqThreads(driver: Driver): void {
  native().holdNewIrqThreads(driver.id);
}

/**
 * From now on, each thread that runs a signal's disposition in program
 * `driver` waits, before it crosses into it, until every one started before
 * it has returned (10 s at most, or until the driver stops running): they
 * run one at a time in the order started, as a scheduler may run them, so
 * that handler threads the kernel lets run side by side show it
 * (test/program-signals.test.ts).
 */
export function holdSignalHandlers(driver: Driver): void {
  native().holdSignalHandlers(driver.id);
}

/**
 * The next wait of `driver` in a kernel call (a read that blocks, a sleep, a
 * join..., a contended spin_lock's yield, or a PCI call's wait for the bus's lock) never ends, deaf to the requests to leave that a failure or an
 * unload makes, until releaseStalledWaits: a kernel call that does not return
 * (test/posix-left-running.test.ts). The kernel logs "test stall" when it begins.
 * `busy`: nor does it count as a wait, which is progress for the watchdog: a
 * call that blocks without waiting (a device polled), timed out by the watchdog.
 */
export function stallNextWait(driver: Driver, { busy = false } = {}): void {
  native().stallNextWait(driver.id, busy);
}

/** Every wait that stallNextWait stalled goes on. */
export function releaseStalledWaits(): void {
  native().releaseStalledWaits();
}

/**
 * The teardown of `driver`'s next failure waits, before it releases the
 * driver's objects (its class registrations still in place), or with
 * `afterRelease` once it has (a shadow has parked its devices), until
 * releaseTeardown (10 s at most): what applications see of a failed driver
 * while its recovery is under way (test/net-open-recovery.test.ts). For a
 * failure torn down on the recovery thread (a kernel thread's fault), not on
 * the JavaScript thread, which would wait with it. The kernel logs "test hold"
 * when it begins.
 */
export function holdTeardown(driver: Driver, { afterRelease = false } = {}): void {
  native().holdTeardown(driver.id, afterRelease);
}

/** The teardown holdTeardown holds goes on. */
export function releaseTeardown(): void {
  native().releaseTeardown();
}

/**
 * The driver's next failure waits inside its claim: the driver marked failed ('failed' is its state), its failure
 * generation not moved on yet. It goes on once another thread that fails the driver too waits for it there (recover()
 * on the JavaScript thread), or at releaseFailureClaim (10 s at most); the driver's unload (the kernel's shutdown's
 * too) drops a hold left armed: such a thread must take the failure's own generation, not the one before, whose
 * recovery is over (test/failure-generation-window.test.ts).
 */
export function holdFailureClaim(driver: Driver): void {
  native().holdFailureClaim(driver.id);
}

/** The claim holdFailureClaim holds goes on (a test that failed while it waited). */
export function releaseFailureClaim(): void {
  native().releaseFailureClaim();
}

/**
 * Shortens the teardown's two waits, for the threads inside a driver to leave
 * it and then for each of its POSIX threads and irq lines' threads to stop, before it leaves one
 * running (5 s each; one step 2 gave up on is not waited for again); with no
 * argument, restores them. The tests that leave a thread running
 * (test/posix-left-running.test.ts) need not wait out 5 s each.
 * At least 5 ms, whole: the teardown looks for threads inside every 5 ms, and
 * with less it would not wait for them at all; at most the 5 s it shortens.
 */
export function setTeardownWaits(ms?: number): void {
  if (ms !== undefined && !(Number.isInteger(ms) && ms >= 5 && ms <= 5000)) throw new RangeError(`setTeardownWaits: ${ms} ms; 5 to 5000, whole`);
  native().setTeardownWaits(ms);
}

/**
 * How many of the teardown's timed waits for threads (to leave the driver,
 * then for its POSIX and irq threads to stop) and of a driver's own
 * free_irq's wait for a stuck handler ran to their end, since the process
 * started: the tests that leave threads running count the waits by this, not
 * by the clock, which a loaded machine stretches.
 */
export function teardownWaitsRunOut(): number {
  return native().teardownWaitsRunOut();
}

/**
 * Whether signal `sig`'s handler runs on the thread's alternate stack
 * (SA_ONSTACK): under isolation 'pkey' the kernel gives every handler it, at
 * once where an event tells it of one, else at the watchdog's next sweep
 * (test/host-signals.test.ts).
 */
export function signalHandlerOnAltStack(sig: number): boolean {
  return native().signalHandlerOnAltStack(sig);
}

/**
 * The watchdog thread runs none of the device classes' periodic checks (their
 * nannies: a stuck transmit, a request a driver keeps, a parked device's
 * re-register rule) until releaseNannies: a test shows that what it checks
 * comes about without them, at once, not at their next look
 * (test/net-driver-gone.test.ts).
 */
export function holdNannies(): void {
  native().holdNannies(true);
}

/** The watchdog thread runs the nannies again. */
export function releaseNannies(): void {
  native().holdNannies(false);
}

/**
 * Whether the recovery thread has no failure queued or in hand: every fault
 * report a kernel thread (timer, work, irq) made is posted to the kernel in
 * JavaScript, which runs it in the event loop's next poll phase (once a
 * setTimeout(0) and then a setImmediate after this have run, it has: a lone
 * setImmediate queued in a poll phase runs before the next one). For tests
 * that check a late report changed nothing.
 */
export function recoveryIdle(): boolean {
  return native().recoveryIdle();
}

/**
 * Shortens the shadow's re-register rule: how long a parked device's owner
 * (its restarted driver, or the fallback in its place) may run without
 * registering it again before the shadow ends it (2 s); with no argument,
 * restores it. The tests that wait for such an end
 * (test/shadow-unregistered.test.ts) need not wait out 2 s each. At least
 * 50 ms, whole: the watchdog thread applies the rule every 50 ms, and a
 * shorter limit would be 50 ms all the same; at most the 2 s it shortens.
 */
export function setReregisterLimit(ms?: number): void {
  if (ms !== undefined && !(Number.isInteger(ms) && ms >= 50 && ms <= 2000)) throw new RangeError(`setReregisterLimit: ${ms} ms; 50 to 2000, whole`);
  native().setReregisterLimit(ms);
}

// What the device classes' TypeScript sides share.
import type { EventEmitter } from 'node:events';
import type { Kernel } from '../kernel.js';
import type { NativeFault } from '../native.js';
import { callEachListener } from '../listeners.js';

/**
 * Runs f, a call into the addon: an addon error (an Error with a `code`) comes
 * out as the class's own error type, with the same code and message.
 */
export function classCall<T, C extends string>(f: () => T, ClassError: new (code: C, message: string) => Error): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ClassError) throw e;
    const err = e as Error & { code?: string };
    if (err.code) throw new ClassError(err.code as C, err.message);
    throw e;
  }
}

/**
 * `message`, which says that a device's unshadowed driver failed (`fault`, that failure's), ended with what the
 * recovery agent decided for that failure, deciding now if it has not yet (Kernel.recoverFromClassCall): the driver
 * restarted, replaced by its fallback, or neither and why. No error promises a restart the policy will not make.
 */
export function withDecision(kernel: Kernel, message: string, fault: NativeFault | undefined): string {
  const decision = fault ? kernel.recoverFromClassCall(fault) : '';
  return decision ? `${message} ${decision}` : message;
}

/** classCall, for a call that may find the device's driver failed: an addon error carrying the failure's `fault` says what became of the driver (withDecision). */
export function driverCall<T, C extends string>(kernel: Kernel, f: () => T, ClassError: new (code: C, message: string) => Error): T {
  return classCall(() => {
    try {
      return f();
    } catch (e) {
      const err = e as Error & { code?: C; fault?: NativeFault };
      if (!err.code || !err.fault) throw e;
      throw new ClassError(err.code, withDecision(kernel, err.message, err.fault));
    }
  }, ClassError);
}

/**
 * Emits a device class's event to each of the emitter's listeners on its own: one that throws keeps the event from no
 * other listener, and the rest of the kernel's batch (other handles' events, the class's own work after it) from no one.
 * Its error is thrown again once the batch is delivered, as the application's uncaught exception (process
 * 'uncaughtException'), as a throw from any other listener Node calls for an outside event: never swallowed.
 */
export function emitApart(emitter: EventEmitter, event: string, ...args: unknown[]): void {
  callEachListener(emitter, event, args, (err) =>
    process.nextTick(() => {
      throw err;
    }));
}

/**
 * A stream's writes, run one after another in call order: each starts once the one before has settled, so that
 * one waiting for room in the kernel's queue is not overtaken by a later one taking that room (a Node stream's order).
 * A write made while none is in flight starts at once, as a lone write always did: it takes what fits before it returns.
 */
export class WritesInOrder {
  private last: Promise<void> = Promise.resolve();
  private inFlight = 0;

  /** Whether a write has not settled yet: its bytes may not all be in the kernel's queue. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Settles once every write made so far has settled (resolved or rejected). */
  settled(): Promise<void> {
    return this.last;
  }

  run<T>(write: () => Promise<T>): Promise<T> {
    const before = this.last;
    let settled!: () => void;
    this.last = new Promise((resolve) => (settled = resolve));
    // a write that throws at once rejects its promise, as one that fails later: the queue goes on either way
    const started = this.inFlight++ === 0 ? new Promise<T>((resolve) => resolve(write())) : before.then(write);
    return started.finally(() => {
      this.inFlight--;
      settled();
    });
  }
}

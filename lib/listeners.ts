// Delivering an event to each of an emitter's listeners on its own: one that
// throws keeps the event from no other listener, and its caller's work (a
// recovery, the rest of a batch of device events) goes on. What becomes of
// the throw is the caller's: a warning (the recovery events, log lines) or
// the application's uncaught exception (a device class's events).
import type { EventEmitter } from 'node:events';

/** Calls each listener of `event` (once-listeners too: rawListeners) with `args`; a throw goes to `onThrow`. */
export function callEachListener(emitter: EventEmitter, event: string, args: unknown[], onThrow: (err: unknown) => void): void {
  for (const listener of emitter.rawListeners(event)) {
    try {
      listener.apply(emitter, args);
    } catch (err) {
      onThrow(err);
    }
  }
}

/** An error's message, for a warning: what a throw of a non-Error gives too. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

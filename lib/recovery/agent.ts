// The user-mode recovery agent: when a driver faults it decides, by the policy,
// whether to restart it, disable it or replace it with a fallback driver (policy);
// the kernel's `actions` carry the decision out (mechanism).
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from '../dirs.js';
import { callEachListener, messageOf } from '../listeners.js';
import { policyFor, type Action, type DriverPolicy, type Policy } from './policy.js';

/** What the agent needs of a fault. Its events carry the fault they were given, whole (the kernel's: a NativeFault). */
export interface Fault {
  kind: string;
  message: string;
  thread?: string;
}

/** The fault of the `disabled` event that ends a recovery which itself failed (a restart, or a fallback that cannot load). */
export interface RecoveryFailure {
  kind: 'recovery-failed';
  message: string;
}

/** What the agent did about a fault: its policy's action, or `disable` where the policy gave up. */
export type Decision = Action;

/**
 * The kernel's side, each given the fault recovered from. `restart` and `fallback` may be asynchronous, except under
 * `onFaultSync`. An action whose driver went during the recovery (unloaded, its kernel shut down) throws RecoveryOver.
 */
export interface RecoveryActions<F extends Fault = Fault> {
  restart(driver: string, fault: F): Promise<void> | void;
  /** `why`: the agent's reason, for the errors of requests a shadow kept ("failed 3 times within 60000 ms (segv last): its recovery policy gave up"). */
  disable(driver: string, why: string, fault: F): void;
  fallback(driver: string, path: string, fault: F): Promise<void> | void;
}

/**
 * What an action throws when its driver went during the recovery (a listener of the recovery's events unloaded
 * it, or shut its kernel down): the recovery is over, quietly, with no further event.
 */
export class RecoveryOver extends Error {}

/**
 * Every fault emits `fault`, then either `disabled`, or `recovering` followed by
 * `recovered` (restart), `fallback` (fallback driver in place) or, when that
 * recovery itself fails, `disabled`.
 */
export type RecoveryEventName = 'fault' | 'recovering' | 'recovered' | 'disabled' | 'fallback';

export interface RecoveryEvent<F extends Fault = Fault> {
  event: RecoveryEventName;
  driver: string;
  /** The fault recovered from; a failed recovery's `disabled` event: why the recovery failed. */
  fault?: F | RecoveryFailure;
  decision?: Decision;
  /** The driver's failures within its policy window, this one included. */
  failuresInWindow: number;
  at: number;
  /** How long the restart or fallback took (terminal events after `recovering`), to the microsecond. */
  durationMs?: number;
}

export interface RecoveryAgentOptions {
  /**
   * The clock of `at`, of durations and of the policy's window (a test's); default `Date.now` for `at`, and
   * `performance.now` for the others, which a stepped wall clock (NTP, an operator's `date -s`) does not move.
   */
  now?: () => number;
  /** Also append each event to this file as a JSON line. */
  logFile?: string;
}

const logLimit = 1000;

/** A duration in ms, to the microsecond: finer is the clock's noise. */
export const microseconds = (ms: number): number => Math.round(ms * 1000) / 1000;

type Plan = { decision: 'restart' | 'disable' } | { decision: 'fallback'; path: string };

function plan(policy: DriverPolicy, failuresInWindow: number): Plan {
  if (policy.action !== 'disable' && failuresInWindow < policy.maxFailures) return { decision: 'restart' };
  return policy.action === 'fallback' ? { decision: 'fallback', path: policy.fallback } : { decision: 'disable' };
}

/**
 * Emits a recovery event to each of the emitter's listeners on its own: one that throws must not stop the recovery
 * half way (the driver would stay failed, its failure handed over already) nor keep the event from the others;
 * its error becomes a process warning. The agent's events, and the kernel's that repeat them.
 */
export function emitEach(emitter: EventEmitter, event: string, entry: unknown): void {
  callEachListener(emitter, event, [entry], (err) => process.emitWarning(`a '${event}' listener threw: ${messageOf(err)}`, 'RecoveryListenerWarning'));
}

export class RecoveryAgent<F extends Fault = Fault> extends EventEmitter<Record<RecoveryEventName, [RecoveryEvent<F>]>> {
  private readonly now: () => number;
  // durations (a library driver restarts in a fraction of a millisecond, which Date.now reads as 0 or 1) and the
  // failure window (a wall clock stepped forward would forget the failures in it, stepped back keep them for good)
  private readonly elapsed: () => number;
  private logFile: string | undefined;
  private readonly failures = new Map<string, number[]>();
  private readonly entries: RecoveryEvent<F>[] = [];
  // each fault's last event: a listener may recover another driver before the recovery of this one returns
  private readonly outcomes = new WeakMap<F, RecoveryEvent<F>>();

  constructor(readonly policy: Policy, private readonly actions: RecoveryActions<F>, options: RecoveryAgentOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.elapsed = options.now ?? (() => performance.now());
    this.logFile = options.logFile;
    if (this.logFile) {
      try {
        makeDirs(dirname(this.logFile));
      } catch (err) {
        this.logFailed(err);
      }
    }
  }

  /** Decides and carries out the recovery; restart and fallback may be asynchronous. Never rejects for the actions' errors. */
  async onFault(driver: string, fault: F): Promise<Decision> {
    const steps = this.recover(driver, fault);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      step = await Promise.resolve(step.value).then(() => steps.next(), (err: unknown) => steps.throw(err));
    }
  }

  /** Like `onFault`, for the synchronous call path that restarts inline: every action must be synchronous. */
  onFaultSync(driver: string, fault: F): Decision {
    const steps = this.recover(driver, fault);
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      if (step.value instanceof Promise) {
        throw new TypeError(`onFaultSync: recovering ${driver} returned a promise; use onFault for asynchronous actions`);
      }
      step = steps.next();
    }
  }

  /**
   * How the recovery of `fault` ended (after onFaultSync): its last event. Not the log's last, which may be another
   * driver's, recovered by a listener of this recovery's events.
   */
  outcome(fault: F): RecoveryEvent<F> | undefined {
    return this.outcomes.get(fault);
  }

  /** The last 1000 events, oldest first. */
  log(): readonly RecoveryEvent<F>[] {
    return [...this.entries];
  }

  /**
   * The decision and its steps, shared by `onFault` and `onFaultSync`: it yields
   * what restart/fallback return and the caller resumes it once that has settled.
   */
  private *recover(driver: string, fault: F): Generator<Promise<void> | void, Decision, void> {
    const policy = policyFor(this.policy, driver);
    const at = this.now();
    const failuresInWindow = this.countFailure(driver, this.elapsed(), policy.windowMs);
    const next = plan(policy, failuresInWindow);
    const event = { driver, fault, decision: next.decision, failuresInWindow, at };
    this.record(fault, 'fault', event);
    if (next.decision === 'disable') {
      const why = policy.action === 'disable'
        ? `failed (${fault.kind}) and its recovery policy says disable`
        : `failed ${failuresInWindow} times within ${policy.windowMs} ms (${fault.kind} last): its recovery policy gave up`;
      if (this.disable(driver, why, fault)) this.record(fault, 'disabled', event);
      return 'disable';
    }

    this.record(fault, 'recovering', event);
    const started = this.elapsed(); // the restart's or fallback's time: not the listeners' of the events before it
    try {
      yield next.decision === 'fallback' ? this.actions.fallback(driver, next.path, fault) : this.actions.restart(driver, fault);
    } catch (err) {
      if (err instanceof RecoveryOver) return next.decision;
      // A driver that cannot be brought back is disabled rather than retried in a loop.
      const failed: RecoveryFailure = { kind: 'recovery-failed', message: messageOf(err) };
      const why = `could not be ${next.decision === 'fallback' ? 'replaced by its fallback' : 'restarted'}: ${failed.message}`;
      if (this.disable(driver, why, fault)) this.finish(fault, 'disabled', { ...event, fault: failed, decision: 'disable' }, started);
      return 'disable';
    }
    this.finish(fault, next.decision === 'fallback' ? 'fallback' : 'recovered', event, started);
    return next.decision;
  }

  /**
   * The disable action; false where it was not carried out: the driver went (RecoveryOver, the recovery is over), or
   * the action failed, which becomes a process warning: the agent's own way out of a failed recovery must not throw.
   */
  private disable(driver: string, why: string, fault: F): boolean {
    try {
      this.actions.disable(driver, why, fault);
      return true;
    } catch (err) {
      if (!(err instanceof RecoveryOver)) process.emitWarning(`disabling ${driver} failed: ${messageOf(err)}`, 'RecoveryWarning');
      return false;
    }
  }

  /** Records the end of the recovery of `of`, which began at `begun.at`, `started` on the durations' clock. */
  private finish(of: F, outcome: RecoveryEventName, begun: Omit<RecoveryEvent<F>, 'event'>, started: number): void {
    this.record(of, outcome, { ...begun, at: this.now(), durationMs: microseconds(this.elapsed() - started) });
  }

  /** A driver unloaded: its failures go with it (a driver loaded later under its name starts with none). */
  forget(driver: string): void {
    this.failures.delete(driver);
  }

  /** Adds a failure at `now` (the monotonic clock) and returns how many fall within the sliding window. */
  private countFailure(driver: string, now: number, windowMs: number): number {
    const recent = (this.failures.get(driver) ?? []).filter((t) => now - t < windowMs);
    recent.push(now);
    this.failures.set(driver, recent);
    return recent.length;
  }

  /** Records an event of the recovery of `of`. */
  private record(of: F, event: RecoveryEventName, fields: Omit<RecoveryEvent<F>, 'event'>): void {
    const entry: RecoveryEvent<F> = { event, ...fields };
    this.entries.push(entry);
    this.outcomes.set(of, entry);
    if (this.entries.length > logLimit) this.entries.shift();
    if (this.logFile) {
      try {
        appendFileSync(this.logFile, `${JSON.stringify(entry)}\n`);
      } catch (err) {
        this.logFailed(err);
      }
    }
    emitEach(this, event, entry); // after logging
  }

  /** Recovery must go on without its log: warn once and stop writing, rather than warn on every fault. */
  private logFailed(err: unknown): void {
    process.emitWarning(`cannot write the recovery log ${this.logFile}: ${(err as Error).message}`, 'RecoveryLogWarning');
    this.logFile = undefined;
  }
}

// The public entry point: boot a kernel, load drivers into protection
// domains, call them, and let the recovery agent restart them when they fail.
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { native, type DeviceInfo, type DriverState, type FaultKind, type LogLine, type NativeDomain, type NativeFault, type NativeObject, type NativeTap, type ParamValue, type TextPatch } from './native.js';
import { driverName, driverPath, loadableDriverPath } from './paths.js';
import { isolations, type Isolation } from './wrappers/enums.js';
import { pciAddress, PciError, type PciVia } from './pci.js';
import { emitEach, RecoveryAgent, RecoveryOver, type Decision, type RecoveryEvent, type RecoveryEventName } from './recovery/agent.js';
import { ArgCheck } from './classes/args.js';
import { withCode } from './error-code.js';
import { messageOf } from './listeners.js';
import { checkLoadOptions } from './load-options.js';
import { keepHandlersOnAltStack } from './host-signals.js';
import { checkPolicy, defaultPolicy, loadPolicy, policyFor, type Policy, type PolicyDocument } from './recovery/policy.js';

export type { Isolation } from './wrappers/enums.js';

export interface BootOptions {
  /**
   * 'auto' (default): pkey where the CPU has protection keys, else mprotect.
   * 'process': each driver in a host process of its own (docs/design.md).
   */
  isolation?: Isolation | 'auto';
  /** Recovery policy: a .json/.yaml file, a parsed Policy, or one written like the file. */
  policy?: string | Policy | PolicyDocument;
  /** Append every recovery event to this file as JSON lines. */
  eventLog?: string;
}

export interface LoadOptions {
  /** Defaults to the file name without .so. */
  name?: string;
  /** Watchdog: the longest one entry may stay in the driver (default from the policy). */
  timeBudgetMs?: number;
  /** The driver's heap limit in bytes (default from the policy). */
  memLimitBytes?: number;
  /**
   * Its DMA memory in bytes (dma_alloc_coherent, hugetlbfs, MAP_HUGETLB): whole 2 MiB pages up to 256 MiB.
   * Default 16 MiB, or memLimitBytes if smaller. Under UIO that many locked hugepages; under VFIO that much pinned.
   */
  dmaBytes?: number;
  /** Shadow the driver (default from the policy): its class keeps devices and requests across restarts. */
  shadow?: boolean;
  /** Injected faults (lib/inject) written over the driver's text before its module_init runs. */
  patches?: TextPatch[];
  /**
   * Values for the driver's load parameters (module_param in nooks/kapi.h),
   * set before its module_init runs, at load and after every recovery. An
   * undeclared name, a wrong type or a value out of range fails the load with EPARAM.
   */
  params?: Record<string, ParamValue>;
  /**
   * The environment of a driver built with the POSIX personality (nooks build
   * --posix): what its getenv returns. Names are C identifiers; values strings
   * without NUL, at most 4095 bytes.
   */
  env?: Record<string, string>;
  /**
   * The PCI addresses of the devices on the kernel's bus (DeviceInfo.address)
   * the driver holds while it is loaded: a driver built with the POSIX
   * personality sees exactly these under /sys/bus/pci/devices (docs/drivers.md).
   * A recovery resets them. An address not on the bus fails the load with
   * ENODEV, a device another driver holds with EBUSY.
   */
  devices?: string[];
  /**
   * A program's argv (a POSIX personality driver that defines main: docs/drivers.md, "Programs"), argv[0] first:
   * what its main is given, at load and at every restart. Default: [the driver's name]. At most 256 strings without
   * NUL, 64 KiB in all.
   */
  argv?: string[];
}

/**
 * How a program ended (Driver.exited, the kernel's 'exit' event): `status` what its main returned or exit() was
 * given (0 to 255), or `signal` the name of the signal that ended it; both null when it was unloaded or its
 * kernel shut down while it ran.
 */
export interface ProgramExit {
  driver: string;
  status: number | null;
  signal: string | null;
}

/** A driver failure, as seen by the caller whose crossing it ended. */
export class DriverFault extends Error {
  readonly kind: FaultKind;
  readonly driver: string;
  readonly address: string;
  readonly ip: string;
  readonly signal: number;
  /** Why the policy's recovery failed (the driver is then disabled): a restart, or a fallback driver that cannot load. */
  readonly recoveryFailed?: string;
  constructor(f: NativeFault, recoveryFailed?: string) {
    super(`${f.driver}: ${f.message}${recoveryFailed ? `; its recovery failed, so it is disabled: ${recoveryFailed}` : ''}`);
    if (recoveryFailed) this.recoveryFailed = recoveryFailed;
    this.name = 'DriverFault';
    this.kind = f.kind;
    this.driver = f.driver;
    this.address = f.address;
    this.ip = f.ip;
    this.signal = f.signal;
  }
}

/**
 * Calls refused because the driver is disabled or failed (`EUNAVAILABLE`), or
 * because the handle is stale (`EUNLOADED`): the driver was unloaded or its
 * kernel shut down. Domain ids are reused, so a stale handle must never reach
 * whatever driver holds its id now.
 */
export class DriverUnavailable extends Error {
  readonly code: 'EUNAVAILABLE' | 'EUNLOADED';
  constructor(message: string, code: 'EUNAVAILABLE' | 'EUNLOADED' = 'EUNAVAILABLE') {
    super(message);
    this.name = 'DriverUnavailable';
    this.code = code;
  }
}

/** An Error with a `code`, which its message ends with: `... [EINVAL]`. */
function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(withCode(message, code)), { code });
}

/** Checks of the arguments of a call about `who` (a driver, or the call): an Error, code EINVAL, naming it and the argument. */
const kernelArgs = (who: string) => new ArgCheck(who, (message) => codedError('EINVAL', message));

function unloaded(what: string): DriverUnavailable {
  return new DriverUnavailable(`${what} [EUNLOADED]`, 'EUNLOADED');
}

interface NativeError extends Error {
  code?: string;
  fault?: NativeFault;
  /** A failed restart's (ERESTART): the driver's failure generation after it. */
  generation?: number;
}

/**
 * Why a fallback driver cannot take its driver's place, from the loader's
 * error: at load (checkDriver) or at the failure. It is given the params its
 * driver was loaded with: the message says so when there were any.
 */
function fallbackRefused(e: unknown, params: LoadOptions['params']): Error & { code: string } {
  const err = e as NativeError;
  const given = err.code === 'EPARAM' && Object.keys(params ?? {}).length > 0;
  const what = given ? 'be loaded with the params its driver was loaded with' : 'be loaded';
  return Object.assign(codedError(err.code ?? 'ELOAD', `the fallback driver cannot ${what}: ${err.message}`), { cause: e });
}

/** What a load gives its driver that a fallback driver taking its place gets too (not `patches`: they are the first binary's). */
type DriverConfig = Pick<LoadOptions, 'params' | 'env' | 'devices' | 'argv'>;

/** What a driver runs under: its load options over its policy entry. */
interface DriverLimits {
  timeBudgetMs: number;
  memLimitBytes: number;
  dmaBytes: number | undefined; // undefined: the kernel's default (16 MiB, or memLimitBytes if smaller)
  shadow: boolean;
  stallMs: number;
}

let booted: Kernel | undefined;

/** Why the handles of a kernel that was shut down fail. */
const SHUT_DOWN = 'the kernel was shut down: its drivers were unloaded';
const shutdownListeners = new Set<(why: string) => void>();
/**
 * @internal A device class's: called when the kernel shuts down, before its
 * drivers are unloaded, to fail the applications' open handles with `why`
 * (the next kernel's device of the same name is another device).
 */
export function onKernelShutdown(fail: (why: string) => void): void {
  shutdownListeners.add(fail);
}

export class Kernel extends EventEmitter<Record<RecoveryEventName, [RecoveryEvent<NativeFault>]> & { log: [LogLine]; exit: [ProgramExit] }> {
  readonly isolation: Isolation;
  readonly policy: Policy;
  private readonly agent: RecoveryAgent<NativeFault>;
  private readonly drivers = new Map<string, Driver>();
  private readonly history: LogLine[] = [];
  private readonly unheard: LogLine[] = []; // in the history, not yet given to the 'log' listeners
  private down = false;
  private readonly failedDrivers = new WeakMap<NativeFault, Driver>(); // the driver of each fault handed to the agent
  private stopKeepingHandlers = () => {}; // isolation 'pkey': lib/host-signals.ts

  private constructor(isolation: Isolation, policy: Policy, eventLog?: string) {
    super();
    this.isolation = isolation;
    this.policy = policy;
    this.agent = new RecoveryAgent(policy, {
      restart: (name, f) => this.recovered(name, f).restart(),
      disable: (name, why, f) => this.recovered(name, f).disable(why, f),
      fallback: (name, path, f) => this.recovered(name, f).replaceWith(path, f),
    }, { logFile: eventLog });
    for (const e of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const)
      this.agent.on(e, (ev) => emitEach(this, e, ev)); // each of the kernel's listeners on its own, as the agent's
  }

  /** Boots the kernel. One kernel per process at a time. */
  static async boot(options: BootOptions = {}): Promise<Kernel> {
    if (booted) throw codedError('EBOOTED', 'a kernel is already booted in this process; call shutdown() first');
    const n = native();
    const wanted = options.isolation ?? 'auto';
    if (wanted !== 'auto' && !(isolations as readonly string[]).includes(wanted))
      throw codedError('EINVAL', `unknown isolation '${wanted}': use 'auto' or one of ${isolations.map((i) => `'${i}'`).join(', ')}`);
    const isolation: Isolation = wanted === 'auto' ? (n.pkeyUnusableReason() === '' ? 'pkey' : 'mprotect') : wanted;
    const policy = typeof options.policy === 'string' ? loadPolicy(options.policy) : checkPolicy(options.policy ?? defaultPolicy);
    n.boot(isolation);
    const k = new Kernel(isolation, policy, options.eventLog);
    if (isolation === 'pkey') k.stopKeepingHandlers = keepHandlersOnAltStack(n);
    n.setFaultListener((id, f) => k.onKernelThreadFault(id, f));
    booted = k;
    return k;
  }

  /** Whether isolation 'pkey' can run here: a CPU with protection keys and Linux 6.12 or later. */
  static pkuSupported(): boolean {
    return native().pkeyUnusableReason() === '';
  }

  /** Why isolation 'pkey' cannot run here ('' when it can). */
  static pkeyUnusableReason(): string {
    return native().pkeyUnusableReason();
  }

  /** Loads a driver (a name from build/drivers, or a path to a .so) into a new domain and runs its module_init. */
  async load(nameOrPath: string, options: LoadOptions = {}): Promise<Driver> {
    this.live();
    kernelArgs('kernel.load').string(nameOrPath, 'the driver (a name or a path)');
    checkLoadOptions(nameOrPath, options);
    const path = loadableDriverPath(nameOrPath);
    const name = options.name ?? driverName(path);
    if (this.drivers.has(name)) throw codedError('EEXIST', `a driver named '${name}' is already loaded`);
    const limits = this.limitsFor(name, options);
    this.checkFallback(name, options.params);
    // copies: the caller may change its options object after the load, and the fallback must get what the driver got
    const config: DriverConfig = {
      params: options.params && { ...options.params }, env: options.env && { ...options.env }, devices: options.devices && [...options.devices],
      argv: options.argv ? [...options.argv] : [name],
    };
    let domain: number;
    try {
      domain = this.startDomain(path, name, limits, { ...options, argv: config.argv });
    } finally {
      this.drainLog(); // a load that fails says so at once too (a module_init that failed: its event)
    }
    const d = new Driver(this, domain, name, path, limits, config);
    this.drivers.set(name, d);
    return d;
  }

  /**
   * The policy's fallback driver for `name`, checked as far as it can be
   * without loading it (as the loader will: the file, its kernel-API version,
   * its symbols and code, the params against its declarations), so that a
   * fallback that could never take over refuses the load, not the recovery.
   */
  private checkFallback(name: string, params: LoadOptions['params']): void {
    const p = policyFor(this.policy, name);
    if (p.action !== 'fallback') return;
    try {
      native().checkDriver(driverPath(p.fallback), params);
    } catch (e) {
      throw fallbackRefused(e, params);
    }
  }

  /** Load options (checked) over the policy's entry. */
  private limitsFor(name: string, options: LoadOptions): DriverLimits {
    const p = policyFor(this.policy, name);
    return { timeBudgetMs: options.timeBudgetMs ?? p.timeBudgetMs, memLimitBytes: options.memLimitBytes ?? p.memLimitBytes,
      dmaBytes: options.dmaBytes, shadow: options.shadow ?? p.shadow, stallMs: p.stallMs };
  }

  /** @internal A driver binary in a new domain (load, and a fallback driver taking a driver's place). */
  startDomain(path: string, name: string, limits: DriverLimits, given: DriverConfig & Pick<LoadOptions, 'patches'>): number {
    const id = native().load(path, name, limits.timeBudgetMs, limits.memLimitBytes, given.patches, given.params, given.env,
      given.devices?.map(pciAddress), limits.dmaBytes, given.argv);
    native().setRecoveryPolicy(id, limits.shadow, limits.stallMs);
    return id;
  }

  driver(name: string): Driver | undefined {
    this.live();
    return this.drivers.get(name);
  }

  /** Every loaded driver's domain: key, state, memory, objects, recoveries. */
  domains(): NativeDomain[] {
    this.live();
    return native().domains();
  }

  /** Kernel log lines (driver printk and kernel messages) since boot, oldest first (after shutdown: what it had). */
  log(): LogLine[] {
    this.drainLog();
    return [...this.history];
  }

  /** The recovery agent's event log (last 1000 events). */
  events(): readonly RecoveryEvent<NativeFault>[] {
    return this.agent.log();
  }

  /** Asserts interrupt line `line` (what a device does); false if no handler is attached. */
  raiseIrq(line: number): boolean {
    this.live();
    return native().raiseIrq(line);
  }

  /**
   * Puts an emulated device on the kernel's PCI bus (kinds: see native/dev/);
   * a loaded driver whose id table matches is probed for it at once.
   */
  addDevice(kind: string, options: Record<string, string | number | boolean> = {}): DeviceInfo {
    this.live();
    const d = native().addDevice(kind, options);
    this.drainLog();
    return d;
  }

  /**
   * Puts a real PCI device of this machine on the kernel's bus, reached
   * through uio_pci_generic or vfio-pci (bind it first: `nooks pci bind`);
   * named by its address. Drivers see no difference from an emulated device:
   * a matching one is probed for it at once. Errors (a PciError or the
   * kernel's, with a `code`) name the fix.
   */
  attachPci(address: string, options: { via: PciVia }): DeviceInfo {
    this.live();
    const via = options?.via;
    if (via !== 'uio' && via !== 'vfio') throw new PciError('EINVAL', `attachPci: via must be 'uio' or 'vfio', got ${JSON.stringify(via)}`);
    const d = native().attachPci(pciAddress(address), via);
    this.drainLog();
    return d;
  }

  /** The devices on the bus and the drivers bound to them. */
  devices(): DeviceInfo[] {
    this.live();
    return native().devices();
  }

  /**
   * Unloads every driver and stops the kernel; its handles (and this object) are stale after. A second call does
   * nothing. The 'log' listeners have heard every line when it resolves (the kernel is down by then).
   */
  async shutdown(): Promise<void> {
    if (this.down) return;
    for (const fail of shutdownListeners) fail(SHUT_DOWN);
    native().shutdown();
    this.stopKeepingHandlers();
    this.drainLog(); // what the unloads logged is this kernel's, not the next one's
    for (const d of this.drivers.values()) d.retire(`${d.name}: ${SHUT_DOWN}`);
    this.drivers.clear();
    this.down = true;
    booted = undefined;
    this.deliverLog(); // now, not in a later turn: a process may exit as soon as shutdown() resolves
  }

  private live(driver?: string): void {
    if (this.down) throw unloaded(`${driver ? `${driver}: ` : ''}${SHUT_DOWN}`);
  }

  /**
   * Recovery after a fault on the caller's own thread: synchronous, so the
   * caller sees the outcome. Returns why the recovery failed, if it did.
   */
  recoverSync(d: Driver, f: NativeFault): string | undefined {
    if (this.programFinished(d, f)) return undefined;
    this.failedDrivers.set(f, d);
    d.decided(f, this.agent.onFaultSync(d.name, f));
    this.drainLog();
    const outcome = this.agent.outcome(f);
    return outcome?.event === 'disabled' && outcome.fault?.kind === 'recovery-failed' ? outcome.fault.message : undefined;
  }

  /**
   * @internal A class call the JavaScript thread made, or a device's detach, saw the driver fail (f: the failure's
   * fault, which the class's error or event carries): the agent decides now if it has not yet, as after a driver
   * call's fault. What the agent decided for that failure, to end the class's message with: that decision, not the
   * driver's state now, which a later failure may have changed ('' while the agent is deciding, or the driver was
   * unloaded since).
   */
  recoverFromClassCall(f: NativeFault): string {
    const d = this.drivers.get(f.driver);
    // a domain id (and its failure generations) is reused by a later load: only the load tells the failure is this driver's
    const current = d !== undefined && d.domainId === f.domain && f.load === native().loadSerial(f.domain);
    if (!d || (!current && d.replacedDomain !== f.domain)) return '';
    if (current && d.claim(f.generation)) this.recoverSync(d, f);
    const { decision, why } = d.decisionFor(f);
    switch (decision) {
      case 'restart':
        return 'and was restarted: open it again';
      case 'fallback': // one fallback per driver: its path is the fallback's from then on
        return `and was replaced by its fallback ${driverName(d.path)}: open it again`;
      case 'disable': // why: this failure's reason, none where the disable action itself failed
        return `and will not be restarted${why ? `: ${d.name} ${why}` : ''}`;
      default:
        return '';
    }
  }

  private driverIn(domain: number): Driver | undefined {
    return [...this.drivers.values()].find((x) => x.domainId === domain);
  }

  private onKernelThreadFault(id: number, f: NativeFault): void {
    const d = this.driverIn(id);
    // disabled: the agent gave up on it after this failure began (a restart whose module_init it cut short)
    if (!d || d.state === 'disabled' || !d.claim(f.generation)) return;
    if (this.programFinished(d, f)) return;
    this.failedDrivers.set(f, d);
    this.agent.onFault(d.name, f)
      .then((decision) => d.decided(f, decision))
      .catch((err: unknown) => process.emitWarning(`recovering ${d.name} failed: ${messageOf(err)}`, 'RecoveryWarning'))
      .finally(() => this.drainLog());
  }

  /**
   * A program that called exit(0), or whose main returned 0, has finished: never recovered (systemd's
   * Restart=on-failure), it is unloaded and its end reported; so has one that ended with a status its policy's
   * preventRestartExitStatus names (a usage error). Any other status is a failure the policy recovers.
   */
  private programFinished(d: Driver, f: NativeFault): boolean {
    if (f.kind !== 'exit' || !d.program) return false;
    const killed = f.status === undefined; // by a signal left to its default action (f.signal)
    const final = f.status === 0 || policyFor(this.policy, d.name).preventRestartExitStatus.includes(f.status!);
    if (!killed && !final && !d.stopping) return false;
    native().unload(d.domainId); // its exit ran its atexit handlers and destructors: no module_exit now (it failed)
    this.forget(d, { driver: d.name, status: killed ? null : f.status!, signal: killed ? signalName(f.signal) : null });
    return true;
  }

  /** The driver whose failure f the agent acts on; RecoveryOver once it has gone (unloaded, or the kernel shut down). */
  private recovered(name: string, f: NativeFault): Driver {
    const d = this.failedDrivers.get(f);
    if (!d || this.drivers.get(name) !== d) throw new RecoveryOver(`${name} was unloaded during its recovery`);
    return d;
  }

  /**
   * Takes the kernel's new log lines into the history at once (log() gives them); its 'log' listeners get them when
   * the JavaScript thread is free, each listener on its own (emitEach): the call that logged them has returned, and
   * no listener's throw can leave a load, an unload, a shutdown or a recovery half done, or change its outcome.
   * Nothing once the kernel is down (shutdown took the last; a listener may have shut it down meanwhile).
   */
  private drainLog(): void {
    if (this.down) return;
    const lines = native().log();
    if (lines.length === 0) return;
    this.unheard.push(...lines);
    // each take in a turn of its own: what was queued after it (a line of nooks exec's about the event that
    // followed these lines) comes before the lines of the next take, not after both
    setImmediate(() => this.deliverLog(lines.length));
    this.history.push(...lines);
    if (this.history.length > 4096) this.history.splice(0, this.history.length - 4096);
  }

  /** The `count` oldest lines not yet heard (fewer where shutdown gave them already), or all. */
  private deliverLog(count = this.unheard.length): void {
    for (const line of this.unheard.splice(0, count)) emitEach(this, 'log', line);
  }

  /** @internal Driver.unload, and a program's end (`end`: how it ended, for Driver.exited and the 'exit' event). */
  forget(d: Driver, end?: ProgramExit): void {
    this.drivers.delete(d.name);
    this.agent.forget(d.name);
    d.retire(`${d.name}: ${end ? 'the program ended' : 'the driver was unloaded'}`, end);
    this.drainLog(); // a module_exit that faulted says so at once
    if (end) emitEach(this, 'exit', end);
  }
}

/** Linux's signal numbers by name (SIGTERM: 15); kill takes a number up to 64, the real-time ones (from 34) too. */
const signalNumbers: Record<string, number> = constants.signals;
const maxSignal = 64;
const realTimeMin = 34; // glibc's SIGRTMIN (its own 32 and 33 below it)

function signalName(n: number): string {
  return Object.keys(signalNumbers).find((name) => signalNumbers[name] === n) ?? (n >= realTimeMin ? `SIGRTMIN+${n - realTimeMin}` : `signal ${n}`);
}

/** How long unload() waits for a running program to end after its SIGTERM, by default. */
const defaultStopMs = 5000;

/** A failure of a Driver: its domain (the driver's, or the one its fallback took the place of) and its generation there. */
const failureKey = (f: NativeFault): string => `${f.domain}:${f.generation}`;
/** How many failures' decisions a Driver keeps: an error about a failure older than these is not expected. */
const decisionsKept = 64;

export class Driver {
  private readonly symbols = new Map<string, number>();
  private isProgram: boolean;
  private settleExit: (end: ProgramExit) => void = () => {};
  /**
   * A program's end (docs/drivers.md, "Programs"): resolves once main returned 0 or exit(0) was called (the driver
   * is unloaded then), or at unload or shutdown while it ran (status and signal null). A failure (a fault, another
   * status) is recovered by the policy instead: a restart runs main again. Never resolves for a library-style driver.
   */
  readonly exited: Promise<ProgramExit>;
  private handledGeneration = 0;
  private replaced: number | undefined; // the domain its fallback driver took the place of
  // the agent's decision for each failure (failureKey), and why it disabled the driver where it did; the latest kept
  private readonly decisions = new Map<string, { decision?: Decision; why?: string }>();

  /** @internal use Kernel.load */
  constructor(
    readonly kernel: Kernel,
    private domain: number,
    readonly name: string,
    public path: string,
    private readonly limits: DriverLimits,
    private readonly config: DriverConfig,
  ) {
    this.isProgram = native().program(this.domain);
    this.exited = new Promise((resolve) => {
      if (this.isProgram) this.settleExit = resolve;
    });
  }

  /** Whether the driver is a program: the POSIX personality's, with a main (which the personality starts). */
  get program(): boolean {
    return this.isProgram;
  }


  /** Why the handle is stale (unloaded, or its kernel shut down); undefined while it is current. */
  private stale: string | undefined;

  /**
   * The domain id (changes when a fallback driver replaces this one). Ids are
   * reused: reading it from a stale handle throws DriverUnavailable (EUNLOADED),
   * so nothing done through it reaches another driver.
   */
  get id(): number {
    if (this.stale !== undefined) throw unloaded(this.stale);
    return this.domain;
  }

  /** @internal The id without the staleness check: for the kernel, which holds only current drivers. */
  get domainId(): number {
    return this.domain;
  }

  /** 'unloaded' once the handle is stale. */
  get state(): DriverState {
    return this.stale === undefined ? native().state(this.domain) : 'unloaded';
  }

  /** @internal The kernel let this driver go (unload, shutdown, a program's end): every later use of the handle throws `why`. */
  retire(why: string, end: ProgramExit = { driver: this.name, status: null, signal: null }): void {
    this.stale = why;
    this.settleExit(end);
  }

  /**
   * Calls an exported driver function (NOOKS_EXPORT) through a crossing.
   * Throws DriverFault if the driver fails; by then the agent has applied the
   * policy (so `state` is 'running' again after a restart).
   */
  call(fn: string, ...args: (number | bigint | boolean)[]): number | bigint {
    const addr = this.resolve(fn);
    return this.crossing(() => native().call(this.id, addr, ...args));
  }

  /**
   * Deferred calls: runs [fn, ...args] calls in order in ONE crossing and
   * returns their results. A fault ends the batch (and throws as call does).
   */
  batch(calls: [string, ...(number | bigint | boolean)[]][]): (number | bigint)[] {
    const arg = kernelArgs(this.name);
    arg.array(calls, 'batch(calls)').forEach((c, i) => arg.array(c, `deferred call ${i}`));
    const resolved = calls.map(([fn, ...args]) => [this.resolve(fn), ...args]);
    return this.crossing(() => native().callBatch(this.id, resolved));
  }

  private resolve(fn: string): number {
    let addr = this.symbols.get(fn);
    if (addr === undefined) { // checked here, off the path of a call whose function is known: only names get in
      addr = native().resolve(this.id, kernelArgs(this.name).string(fn, 'the function name'));
      this.symbols.set(fn, addr);
    }
    return addr;
  }

  private crossing<T>(enter: () => T): T {
    try {
      return enter();
    } catch (e) {
      const err = e as NativeError;
      if (err.code === 'EDRIVERFAULT' && err.fault) {
        const recoveryFailed = this.claim(err.fault.generation) ? this.kernel.recoverSync(this, err.fault) : undefined;
        throw new DriverFault(err.fault, recoveryFailed);
      }
      if (err.code === 'EUNAVAILABLE') throw new DriverUnavailable(err.message, 'EUNAVAILABLE');
      throw e;
    }
  }

  /**
   * @internal The recovery agent's `restart` action. A restart that fails is a failure of its own, claimed here:
   * one whose module_init a fault on another thread cut short is reported again from there, later, and must not
   * restart the driver the agent disables now.
   */
  restart(): void {
    try {
      native().restart(this.id);
    } catch (e) {
      const generation = (e as NativeError).generation;
      if (generation !== undefined) this.claim(generation);
      throw e;
    }
  }

  /** @internal The recovery agent's `disable` action after failure f: the driver is disabled for `why` (its requests' errors say it). */
  disable(why: string, f: NativeFault): void {
    native().disable(this.id, why);
    this.decide(f, { why });
  }

  /** @internal The domain its fallback driver took the place of (a failure's fault there was this driver's). */
  get replacedDomain(): number | undefined {
    return this.replaced;
  }

  /** @internal The agent decided `decision` for failure f (decisionFor). */
  decided(f: NativeFault, decision: Decision): void {
    this.decide(f, { decision });
  }

  private decide(f: NativeFault, what: { decision?: Decision; why?: string }): void {
    const key = failureKey(f);
    this.decisions.set(key, { ...this.decisions.get(key), ...what });
    if (this.decisions.size > decisionsKept) this.decisions.delete(this.decisions.keys().next().value!);
  }

  /**
   * @internal What the agent decided for failure f, once it has, and why it disabled the driver, if it did: a class's
   * error about f names them (recoverFromClassCall).
   */
  decisionFor(f: NativeFault): { decision?: Decision; why?: string } {
    return this.decisions.get(failureKey(f)) ?? {};
  }

  /** @internal True once per failure: whoever sees it first (caller or kernel thread) hands it to the agent. */
  claim(generation: number): boolean {
    if (generation <= this.handledGeneration) return false;
    this.handledGeneration = generation;
    return true;
  }

  /**
   * Memory inside the driver's domain, to pass buffers to its functions: a
   * zeroed block of `size` bytes from its heap (counted against its memory
   * limit), held as its object (`objects()`: label 'driver.alloc') until
   * free(), a kfree by the driver, or a recovery. Returns its address.
   */
  alloc(size: number): number {
    return this.crossing(() => native().memAlloc(this.id, size));
  }

  /** Frees a block alloc() or cstring() made; anything else is refused (EFAULT). */
  free(address: number | bigint): void {
    this.crossing(() => native().memFree(this.id, address));
  }

  /**
   * Copies `bytes` into the driver's memory at `address`: the range must lie
   * inside one block the driver holds now (alloc, its kmalloc or DMA), else EFAULT.
   */
  write(address: number | bigint, bytes: Uint8Array): void {
    this.crossing(() => native().memWrite(this.id, address, bytes));
  }

  /** Copies `length` bytes out of the driver's memory at `address`, checked as write() is. */
  read(address: number | bigint, length: number): Buffer {
    return this.crossing(() => native().memRead(this.id, address, length));
  }

  /** `text` as a NUL-terminated UTF-8 string in a new alloc() block; its address. */
  cstring(text: string): number {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.includes(0)) throw Object.assign(new Error(`${this.name}: cstring: the text contains a NUL character`), { code: 'EINVAL' });
    const address = this.alloc(bytes.length + 1);
    this.write(address, bytes);
    return address;
  }

  /** Every kernel object the driver holds now. */
  objects(): NativeObject[] {
    return native().objects(this.id);
  }

  /** Its crossings so far, per kernel call and class operation that saw one (the shadow's taps). */
  taps(): NativeTap[] {
    return native().taps(this.id);
  }

  /** Writes an injected fault (lib/inject) over the running driver's text. */
  patchText(patch: TextPatch): void {
    native().patchText(this.id, patch.offset, patch.bytes, patch.transient);
  }

  /**
   * Explicit recovery: fail the driver on purpose and let the policy act. A disabled driver has no failure left to
   * hand the policy (its last one was, and a disabled driver fails no more): its restart is asked for directly, and
   * refused (DriverUnavailable, EUNAVAILABLE). So is the recovery of a failure the agent has in hand already (asked
   * for by a listener of that recovery's events): the agent recovers each failure once.
   */
  recover(): void {
    if (this.state === 'disabled') {
      try {
        native().restart(this.id);
      } catch (e) {
        throw new DriverUnavailable((e as Error).message);
      }
      return;
    }
    const generation = native().fail(this.id);
    if (!this.claim(generation)) {
      throw new DriverUnavailable(`${this.name} is being recovered from its failure already: wait for the recovery's end (the kernel's 'recovered', 'fallback' or 'disabled' event)`);
    }
    this.kernel.recoverSync(this, {
      kind: 'aborted', message: 'recovery requested', driver: this.name, domain: this.id, signal: 0, address: '0x0', ip: '0x0',
      primary: true, generation,
    });
  }

  /** @internal Whether unload() is stopping the program: its exit, whatever the status, is its end. */
  stopping = false;

  /**
   * Sends a signal (a name like 'SIGTERM', or a number from 1 to 64) to a program (docs/drivers.md, "Programs"):
   * its handler runs inside the domain on a driver thread of the signal's own, then the program's poll, epoll_wait,
   * sleeps, pause and blocking reads end with EINTR; SIG_IGN does nothing; SIG_DFL ends it as killed by the signal
   * (Driver.exited: `signal`) where Linux's default action ends a process. ESRCH: not a program (a library-style
   * driver, or not one of the POSIX personality), or not running.
   */
  kill(signal: string | number = 'SIGTERM'): void {
    const n = typeof signal === 'string' ? signalNumbers[signal] : signal;
    if (!Number.isInteger(n) || n < 1 || n > maxSignal)
      throw codedError('EINVAL', `${this.name}: kill: expected a signal name like 'SIGTERM' or a number from 1 to ${maxSignal}, got ${JSON.stringify(signal)}`);
    this.crossing(() => native().kill(this.id, n));
  }

  /**
   * Unloads the driver: its module_exit, atexit handlers and destructors run, then every thread is stopped. A
   * program still running is sent SIGTERM first and given `stopMs` (default 5000) to end; whatever runs after
   * that is stopped as a library-style driver's threads are. Done at once (the promise resolved) for anything else.
   */
  unload(options: { stopMs?: number } = {}): Promise<void> {
    const stopMs = options.stopMs ?? defaultStopMs;
    if (!Number.isSafeInteger(stopMs) || stopMs < 0)
      throw codedError('EINVAL', `${this.name}: unload: stopMs: expected a non-negative integer, got ${JSON.stringify(stopMs)}`);
    if (this.isProgram && this.state === 'running') return this.stop(stopMs);
    native().unload(this.id);
    this.kernel.forget(this);
    return Promise.resolve();
  }

  private async stop(stopMs: number): Promise<void> {
    this.stopping = true;
    try {
      this.kill('SIGTERM');
    } catch (e) {
      if (this.state === 'running') throw e;
      // it failed since unload() looked (on a thread of its own): no one takes the signal, it is unloaded as failed
      native().unload(this.id);
      this.kernel.forget(this);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), stopMs)))]);
    clearTimeout(timer);
    if (ended || this.stale !== undefined) return;
    native().unload(this.id);
    this.kernel.forget(this);
  }

  /**
   * @internal The agent's fallback action: the same Driver object, another
   * binary with the same limits, params, env and devices (checked as at load:
   * a param it does not declare refuses it). The fallback is loaded before this driver's
   * (failed, torn down) domain goes, which hands it what the shadow parked for
   * this driver (docs/recovery.md, "Shadow drivers"): one that cannot load
   * leaves the driver to be disabled, with the reason. `f`: the failure replaced from.
   */
  replaceWith(path: string, f: NativeFault): void {
    const fallback = driverPath(path);
    // the policy's fallback is one: when the fallback in place fails past the policy's limit, none is left; how it
    // failed is all its user learns of that failure (a stream's error, a disabled event)
    if (this.replaced !== undefined) throw new Error(`its fallback driver ${fallback}, in its place, failed too (${f.kind}: ${f.message}): there is no other [EFALLBACK]`);
    if (fallback === this.path) throw new Error(`the fallback driver ${fallback} is the driver itself: refused [EFALLBACK]`);
    let domain: number;
    try {
      domain = this.kernel.startDomain(fallback, this.name, this.limits, this.config);
    } catch (e) {
      throw fallbackRefused(e, this.config.params);
    }
    native().unload(this.id, domain);
    this.symbols.clear();
    this.path = fallback;
    this.replaced = this.domain;
    this.domain = domain;
    this.isProgram = native().program(this.domain);
    this.handledGeneration = 0; // the fallback's domain counts its failures from 1
  }
}

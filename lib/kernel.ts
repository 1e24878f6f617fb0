// The public entry point: boot a kernel, load drivers into protection
// domains, call them, and let the recovery agent restart them when they fail.
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { native, type DeviceInfo, type DriverState, type FaultKind, type LogLine, type NativeDomain, type NativeFault, type NativeObject, type NativeTap, type ParamValue, type TextPatch } from './native.js';
import { driverPath } from './paths.js';
import { pciAddress, PciError, type PciVia } from './pci.js';
import { RecoveryAgent, type RecoveryEvent, type RecoveryEventName } from './recovery/agent.js';
import { checkPolicy, defaultPolicy, loadPolicy, policyFor, type Policy, type PolicyDocument } from './recovery/policy.js';

export type Isolation = 'pkey' | 'mprotect' | 'process' | 'none';

export interface BootOptions {
  /**
   * 'auto' (default): pkey where the CPU has protection keys, else mprotect.
   * 'process': each driver in a host process of its own (README, Isolation modes).
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
}

/** A driver failure, as seen by the caller whose crossing it ended. */
export class DriverFault extends Error {
  readonly kind: FaultKind;
  readonly driver: string;
  readonly address: string;
  readonly ip: string;
  readonly signal: number;
  constructor(f: NativeFault) {
    super(`${f.driver}: ${f.message}`);
    this.name = 'DriverFault';
    this.kind = f.kind;
    this.driver = f.driver;
    this.address = f.address;
    this.ip = f.ip;
    this.signal = f.signal;
  }
}

/** Calls refused because the driver is disabled, failed or unloaded. */
export class DriverUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverUnavailable';
  }
}

interface NativeError extends Error {
  code?: string;
  fault?: NativeFault;
}

let booted: Kernel | undefined;

export class Kernel extends EventEmitter<Record<RecoveryEventName, [RecoveryEvent]> & { log: [LogLine] }> {
  readonly isolation: Isolation;
  readonly policy: Policy;
  private readonly agent: RecoveryAgent;
  private readonly drivers = new Map<string, Driver>();
  private readonly history: LogLine[] = [];

  private constructor(isolation: Isolation, policy: Policy, eventLog?: string) {
    super();
    this.isolation = isolation;
    this.policy = policy;
    this.agent = new RecoveryAgent(policy, {
      restart: (name) => native().restart(this.byName(name).id),
      disable: (name, why) => native().disable(this.byName(name).id, why),
      fallback: (name, path) => this.byName(name).replaceWith(path),
    }, { logFile: eventLog });
    for (const e of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const)
      this.agent.on(e, (ev) => this.emit(e, ev));
  }

  /** Boots the kernel. One kernel per process at a time. */
  static async boot(options: BootOptions = {}): Promise<Kernel> {
    if (booted) throw new Error('a kernel is already booted in this process; call shutdown() first');
    const n = native();
    const wanted = options.isolation ?? 'auto';
    if (!['auto', 'pkey', 'mprotect', 'process', 'none'].includes(wanted))
      throw new Error(`unknown isolation '${wanted}': use 'auto', 'pkey', 'mprotect', 'process' or 'none'`);
    const isolation: Isolation = wanted === 'auto' ? (n.pkeyUnusableReason() === '' ? 'pkey' : 'mprotect') : wanted;
    const policy = typeof options.policy === 'string' ? loadPolicy(options.policy) : checkPolicy(options.policy ?? defaultPolicy);
    n.boot(isolation);
    const k = new Kernel(isolation, policy, options.eventLog);
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
    const path = driverPath(nameOrPath);
    const name = options.name ?? basename(path).replace(/\.so$/, '');
    if (this.drivers.has(name)) throw new Error(`a driver named '${name}' is already loaded`);
    const p = policyFor(this.policy, name);
    const id = native().load(path, name, options.timeBudgetMs ?? p.timeBudgetMs, options.memLimitBytes ?? p.memLimitBytes, options.patches, options.params);
    native().setRecoveryPolicy(id, options.shadow ?? p.shadow, p.stallMs);
    const d = new Driver(this, id, name, path);
    this.drivers.set(name, d);
    this.drainLog();
    return d;
  }

  driver(name: string): Driver | undefined {
    return this.drivers.get(name);
  }

  /** Every loaded driver's domain: key, state, memory, objects, recoveries. */
  domains(): NativeDomain[] {
    return native().domains();
  }

  /** Kernel log lines (driver printk and kernel messages) since boot, oldest first. */
  log(): LogLine[] {
    this.drainLog();
    return [...this.history];
  }

  /** The recovery agent's event log (last 1000 events). */
  events(): readonly RecoveryEvent[] {
    return this.agent.log();
  }

  /** Asserts interrupt line `line` (what a device does); false if no handler is attached. */
  raiseIrq(line: number): boolean {
    return native().raiseIrq(line);
  }

  /**
   * Puts an emulated device on the kernel's PCI bus (kinds: see native/dev/);
   * a loaded driver whose id table matches is probed for it at once.
   */
  addDevice(kind: string, options: Record<string, string | number | boolean> = {}): DeviceInfo {
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
    const via = options?.via;
    if (via !== 'uio' && via !== 'vfio') throw new PciError('EINVAL', `attachPci: via must be 'uio' or 'vfio', got ${JSON.stringify(via)}`);
    const d = native().attachPci(pciAddress(address), via);
    this.drainLog();
    return d;
  }

  /** The devices on the bus and the drivers bound to them. */
  devices(): DeviceInfo[] {
    return native().devices();
  }

  /** A kernel object drivers may read but not write; its address and current value. */
  hostProbe(): { address: number; value: bigint } {
    return native().hostProbe();
  }

  async shutdown(): Promise<void> {
    native().shutdown();
    this.drivers.clear();
    booted = undefined;
  }

  /** Recovery after a fault on the caller's own thread: synchronous, so the caller sees the outcome. */
  recoverSync(d: Driver, f: NativeFault): void {
    this.agent.onFaultSync(d.name, f);
    this.drainLog();
  }

  private onKernelThreadFault(id: number, f: NativeFault): void {
    const d = [...this.drivers.values()].find((x) => x.id === id);
    if (!d || !d.claim(f.generation)) return;
    void this.agent.onFault(d.name, f).finally(() => this.drainLog());
  }

  private byName(name: string): Driver {
    const d = this.drivers.get(name);
    if (!d) throw new Error(`no driver named '${name}'`);
    return d;
  }

  private drainLog(): void {
    for (const line of native().log()) {
      this.history.push(line);
      this.emit('log', line);
    }
    if (this.history.length > 4096) this.history.splice(0, this.history.length - 4096);
  }

  /** @internal Driver.unload */
  forget(d: Driver): void {
    this.drivers.delete(d.name);
    this.drainLog(); // a module_exit that faulted says so at once
  }
}

export class Driver {
  private readonly symbols = new Map<string, number>();
  private handledGeneration = 0;

  constructor(
    readonly kernel: Kernel,
    /** The domain id (changes when a fallback driver replaces this one). */
    public id: number,
    readonly name: string,
    public path: string,
  ) {}

  get state(): DriverState {
    return native().state(this.id);
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
    const resolved = calls.map(([fn, ...args]) => [this.resolve(fn), ...args]);
    return this.crossing(() => native().callBatch(this.id, resolved));
  }

  private resolve(fn: string): number {
    let addr = this.symbols.get(fn);
    if (addr === undefined) {
      addr = native().resolve(this.id, fn);
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
        if (this.claim(err.fault.generation)) this.kernel.recoverSync(this, err.fault);
        throw new DriverFault(err.fault);
      }
      if (err.code === 'EUNAVAILABLE') throw new DriverUnavailable(err.message);
      throw e;
    }
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

  /** Explicit recovery: fail the driver on purpose and let the policy act. */
  recover(): void {
    const generation = native().fail(this.id);
    this.claim(generation);
    this.kernel.recoverSync(this, {
      kind: 'aborted', message: 'recovery requested', driver: this.name, domain: this.id, signal: 0, address: '0x0', ip: '0x0',
      primary: true, generation,
    });
  }

  unload(): void {
    native().unload(this.id);
    this.kernel.forget(this);
  }

  /** @internal the agent's fallback action: the same Driver object, another binary. */
  replaceWith(path: string): void {
    const n = native();
    const d = n.domains().find((x) => x.id === this.id);
    n.unload(this.id, true);
    this.symbols.clear();
    this.path = driverPath(path);
    this.id = n.load(this.path, this.name, d?.timeBudgetMs ?? 2000, d?.memLimit ?? 64 << 20);
    const p = policyFor(this.kernel.policy, this.name);
    n.setRecoveryPolicy(this.id, p.shadow, p.stallMs);
  }
}

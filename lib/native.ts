// The C++ addon (native/addon.cc), typed by its surfaces' descriptions (lib/wrappers/addon/).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot, rebuildAdvice } from './paths.js';
import type { NativeAddon } from './wrappers/addon/index.js';
import type { DriverState, FaultKind, ObjectType } from './wrappers/enums.js';
import type { ShadowRole } from './wrappers/ops/types.js';

export interface NativeFault {
  kind: FaultKind;
  message: string;
  driver: string;
  domain: number;
  signal: number;
  address: string;
  ip: string;
  /** False when the fault only echoes a failure already being recovered (another thread's). */
  primary: boolean;
  /** Which failure of the driver this fault belongs to: the faults of one failure share it. */
  generation: number;
  /** Kind 'exit': the status exit() was given (0 to 255), as a parent process would see it. */
  status?: number;
  /** A class failure's: which load of the driver failed (loadSerial); a domain's generations start again at each load. */
  load?: number;
}

export type { NativeAddon };

/** What ended a crossing: processor faults, a rejected kernel call, the watchdog, or an abort. */
export type { FaultKind, DriverState, ObjectType } from './wrappers/enums.js';

export interface NativeDomain {
  id: number;
  name: string;
  path: string;
  state: DriverState;
  isolation: string;
  pkey: number;
  sharedKey: boolean;
  heapUsed: number;
  memLimit: number;
  timeBudgetMs: number;
  objects: number;
  recoveries: number;
  threads: number;
  /** Entries into the domain so far (host -> driver crossings, nested ones included), on threads that still exist. */
  crossings: number;
  /** Runs of its interrupt handlers so far (each one of the crossings). */
  interrupts: number;
  /**
   * The watchdog's requests to its threads to leave for running past the time budget, since the load (a restart
   * does not reset it; docs/recovery.md, "The watchdog in each isolation mode"): not counting one it took back (the
   * thread had moved on without it), nor its asks again while a request stands (its own, or a teardown's). One the
   * thread left on counts; so does one the thread found stale, having left just before it came.
   */
  timeouts: number;
}


export interface NativeObject {
  type: ObjectType;
  address: string;
  size: number;
  label: string;
}

/**
 * The crossings of one kernel call (driver → kernel) or class operation
 * (kernel → driver) of a driver, counted by its tap (native/shadow/taps.h).
 */
export interface NativeTap {
  direction: 'to-kernel' | 'to-driver';
  /** "kapi", or the operations table (net_device_ops, blk_disk_ops, uart_ops, snd_pcm_ops) */
  table: string;
  name: string;
  /** to-driver: what the shadow does with the operation */
  role?: ShadowRole;
  /** every call made to the driver, and every one held (a batch's calls that a stop or a fault left unmade do not count) */
  calls: number;
  /** calls in which the driver faulted */
  faults: number;
  /** calls that did not cross: the driver was down (failed, restarting), its shadow answered */
  held: number;
  /**
   * to-driver: crossings that carried its calls (deferred calls batched into one crossing count it once:
   * calls / crossings is the batching achieved); to-kernel: equal to calls (each kernel call is an upcall of its own)
   */
  crossings: number;
}

/** A device on the kernel's PCI bus. */
export interface DeviceInfo {
  index: number;
  name: string;
  kind: string;
  /** Its PCI address: an emulated device's is given by the bus (0000:00:02.0 for the first), a real one keeps its own. */
  address: string;
  vendor: number;
  device: number;
  irq: number;
  /** The driver bound to it, or null. */
  driver: string | null;
  /** Device-visible errors so far (bad DMA addresses, undefined registers). */
  errors: number;
}

export interface LogLine {
  level: number;
  source: string;
  /** For people: its wording may change. */
  text: string;
  /** For programs, on the kernel messages they act on (docs/api.md#kernel-log-events): what it reports. */
  event?: LogEvent;
}

/** What a kernel message reports: its kind and named fields. */
export interface LogEvent {
  kind: string;
  [field: string]: string | number | boolean;
}

export interface NativeBench {
  tscPerNs: number;
  wrpkruPairTicks: number | null;
  /** A pair of mprotect calls on the pages a crossing flips (the host-object heap); null outside isolation 'mprotect'. */
  mprotectPairTicks: number | null;
  roundTripTicks: number;
  /** mprotect calls per round trip (isolation 'mprotect'; 0 in the others). */
  mprotectCallsPerCrossing: number;
  tappedRoundTripTicks: number;
  upcallTicks: number;
  /** mprotect calls per kernel call (isolation 'mprotect'; 0 in the others). */
  mprotectCallsPerKernelCall: number;
  batchedCallTicks: number;
}

/** A load parameter's value: int and long take integers (a bigint past 2^53), bool a boolean, charp a string. */
export type ParamValue = number | bigint | boolean | string;

/** Bytes written over a driver's text at `offset` from its load base (as objdump shows it). */
export interface TextPatch {
  offset: number;
  bytes: Buffer;
  /** Removed at recovery (the original bytes put back); otherwise the fault stays, like a bug in the binary. */
  transient: boolean;
}

let addon: NativeAddon | undefined;

// Whose addon this process loaded (its package root), seen by every copy of
// the package in it: a second installation's addon cannot have the static TLS
// the first holds (its load fails as if it were not built), and would be a
// second kernel anyway.
const loadedAddon = Symbol.for('nooks.addon');
const processGlobal = globalThis as { [loadedAddon]?: string };

export function native(): NativeAddon {
  if (!addon) {
    const path = join(packageRoot, 'build', 'Release', 'nooks.node');
    const first = processGlobal[loadedAddon];
    if (first !== undefined && first !== packageRoot) {
      throw new Error(`nooks is loaded twice in this process: from ${first} and from ${packageRoot}; ` +
        'a process holds one kernel: import \'nooks\' from one installation (a workload module finds \'nooks\' from its own ' +
        'directory: run the nooks installed there, npx nooks)');
    }
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (e) {
      throw new Error(`cannot load the nooks addon at ${path} (build it: ${rebuildAdvice}): ${(e as Error).message}`);
    }
    processGlobal[loadedAddon] = packageRoot;
  }
  return addon;
}

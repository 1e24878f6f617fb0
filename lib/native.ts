// The C++ addon (native/addon.cc), typed. Only lib/kernel.ts talks to it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot, rebuildCommand } from './paths.js';
import type { DriverState, FaultKind, Isolation, ObjectType } from './wrappers/enums.js';

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
}

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
  /** to-driver: what the shadow does with the operation (lib/wrappers/ops/types.ts ShadowRole) */
  role?: 'lifecycle' | 'config' | 'request' | 'query' | 'recovery';
  /** every call, crossed or not */
  calls: number;
  /** calls in which the driver faulted */
  faults: number;
  /** calls that did not cross: the driver was down (failed, restarting), its shadow answered */
  held: number;
}

/** A device on the kernel's PCI bus. */
export interface DeviceInfo {
  index: number;
  name: string;
  kind: string;
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
  text: string;
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

export interface NativeAddon {
  boot(isolation: Isolation): void;
  shutdown(): void;
  /**
   * `patches` are written over the text before module_init runs; `params` set
   * the driver's module_param variables (checked against its declarations: EPARAM);
   * `env` is what the POSIX personality's getenv returns (checked in lib/load-options.ts).
   */
  load(path: string, name: string, timeBudgetMs: number, memLimitBytes: number, patches?: TextPatch[], params?: Record<string, ParamValue>,
    env?: Record<string, string>): number;
  /** Writes an injected fault over the running driver's text. */
  patchText(id: number, offset: number, bytes: Buffer, transient: boolean): void;
  /** `forFallback`: a fallback driver takes the devices over; what their shadows parked waits for it. */
  unload(id: number, forFallback?: boolean): void;
  resolve(id: number, symbol: string): number;
  call(id: number, fn: number, ...args: (number | bigint | boolean)[]): number | bigint;
  callBatch(id: number, calls: (number | bigint | boolean)[][]): (number | bigint)[];
  restart(id: number): void;
  /** Fails the driver on purpose; returns the failure's generation. */
  fail(id: number): number;
  /** Gives up on the driver; `why` ends the error of the requests its shadow kept ("<driver> <why>"). */
  disable(id: number, why?: string): void;
  /** What the kernel applies of the driver's policy: shadowing, the nannies' deadline. */
  setRecoveryPolicy(id: number, shadow: boolean, stallMs: number): void;
  state(id: number): DriverState;
  domains(): NativeDomain[];
  objects(id: number): NativeObject[];
  taps(id: number): NativeTap[];
  /** A zeroed block of the driver's heap, held as its object; its address. */
  memAlloc(id: number, size: number): number;
  /** Frees a block memAlloc made (EFAULT for anything else). */
  memFree(id: number, address: number | bigint): void;
  /** The range must lie inside one heap or DMA block the driver holds (EFAULT). */
  memWrite(id: number, address: number | bigint, bytes: Uint8Array): void;
  memRead(id: number, address: number | bigint, length: number): Buffer;
  log(): LogLine[];
  raiseIrq(line: number): boolean;
  addDevice(kind: string, options?: Record<string, string | number | boolean>): DeviceInfo;
  devices(): DeviceInfo[];
  attachPci(address: string, via: 'uio' | 'vfio'): DeviceInfo;
  hostProbe(): { address: number; value: bigint };
  setFaultListener(fn: (domain: number, fault: NativeFault) => void): void;
  bench(id: number, nop: number, upcalls: number, runs: number, iters: number): NativeBench;
  /** Only the round trip and the kernel call (with more domains loaded). */
  benchDomains(id: number, nop: number, upcalls: number, runs: number, iters: number): Pick<NativeBench, 'roundTripTicks' | 'mprotectCallsPerCrossing' | 'upcallTicks' | 'mprotectCallsPerKernelCall'>;
  /** Thread i crosses into ids[i % n] through fns[i % n] (empty functions) for `seconds`, all threads at once. */
  benchScale(ids: number[], fns: number[], threads: number, seconds: number): { crossings: number; seconds: number };
  /** '' when isolation 'pkey' can run here, else the reason it cannot. */
  pkeyUnusableReason(): string;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    const path = join(packageRoot, 'build', 'Release', 'nooks.node');
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (e) {
      throw new Error(`cannot load the nooks addon at ${path} (build it: \`${rebuildCommand}\`): ${(e as Error).message}`);
    }
  }
  return addon;
}

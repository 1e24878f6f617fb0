// The fault injector: from a driver, a seed and optionally a type, one fault
// (plan), reproducible: the same inputs give the same site and bytes; then
// written into a loaded driver (apply). The mechanism that writes driver
// text is native (native/loader/text_patch.cc); what to write is chosen here.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { dynamicSymbol } from '../elf.js';
import { DriverFault, DriverUnavailable, type Driver, type Kernel } from '../kernel.js';
import { native, type TextPatch } from '../native.js';
import type { RecoveryEvent } from '../recovery/agent.js';
import { driverName, driverPath } from '../paths.js';
import { binaryTypeHelp, binaryTypes, candidates, mutate, type BinaryType } from './binary.js';
import { disassemble, type Disassembly, type Instruction } from './disasm.js';
import { seeded } from './random.js';
import { lkdtmPatch, lkdtmPatchSize, nullDerefHooks, targetedTypeHelp, targetedTypes, type TargetedType } from './targeted.js';

export { binaryTypes, targetedTypes, type BinaryType, type TargetedType };
export type FaultType = BinaryType | TargetedType;
export const faultTypes: readonly FaultType[] = [...binaryTypes, ...targetedTypes];
export const faultTypeHelp: Record<FaultType, string> = { ...binaryTypeHelp, ...targetedTypeHelp };

/**
 * The planner's version: raise it whenever the same driver, seed and options
 * plan another fault, or a trial runs the fault otherwise. A campaign's plan
 * names it, so that shards planned by two versions (whose trial N is a
 * different fault, or the same fault with other chances to show) are never merged.
 * 2: under a workload, the driver's exported functions are fault sites too.
 * 3: the fault is in the driver's binary at load, and the trial unloads the
 * driver (lib/experiments/trial.ts): faults in module_init, probe, remove and module_exit show.
 * 4: a driver's faults go into its own code, what its object files define (lib/inject/disasm.ts), for both kinds:
 * a POSIX driver's not into the personality's (its stand-in module_init included), and a kapi driver's function
 * that shares its name with the driver runtime's is a site.
 * 5: a binary fault never makes a sequence the loader refuses (WRPKRU, XRSTOR, WR{FS,GS}BASE): drawn again.
 */
export const plannerVersion = 5;

/** One injected fault: what, where, and the bytes (or the hook) that make it. JSON as it is. */
export interface InjectedFault {
  driver: string;
  kind: 'binary' | 'targeted';
  type: FaultType;
  seed: number;
  /** Removed at recovery (the original bytes put back); otherwise it stays, like a bug in the binary. */
  transient: boolean;
  /** The function, and for a text patch the offset (from the driver's load base) and the instruction there. */
  site: { function: string; offset?: number; instruction?: string };
  /** The text patch: hex bytes before and after. */
  patch?: { offset: number; before: string; after: string };
  /** Or a test hook of the driver that arms the fault. */
  hook?: string;
}

export interface PlanOptions {
  seed: number;
  /** Default: one of the types that has a site in this driver, chosen by the seed. */
  type?: FaultType;
  transient?: boolean;
  /** Only this function of the driver. */
  fn?: string;
  /**
   * Its exported functions too. Left out by default: the built-in drivers export
   * only test hooks, which their applications never call; a workload calls a
   * driver through them, so there they are the driver's own code at work.
   */
  exported?: boolean;
}

function isBinary(t: FaultType): t is BinaryType {
  return (binaryTypes as readonly string[]).includes(t);
}

/** Where each type could go in this driver (binary: instructions; targeted: functions or the hook). */
function sites(d: Disassembly, type: FaultType, { fn, exported }: PlanOptions, hook: string | undefined) {
  // by default the driver's code apart from its exported functions; any function of its own when named
  const pool = d.functions.filter((f) => f.own && (fn ? f.name === fn : exported || !f.exported));
  const names = new Set(pool.map((f) => f.name));
  const ins = d.instructions.filter((i) => names.has(i.fn)); // the driver's own instructions only: a name the runtime shares is this one
  if (isBinary(type)) return { instructions: candidates(type, ins), functions: [] };
  if (type === 'null-deref' && hook && !fn) return { instructions: [], functions: [], hook };
  if (d.symbol('nooks_lkdtm') === undefined) return { instructions: [], functions: [] };
  // not a function's cold part (foo.cold): jumped to from inside foo, not called, it has no return for the patch's call to take
  const functions = pool.filter((f) => !/\.cold(\.\d+)?$/.test(f.name) && f.end - f.start >= lkdtmPatchSize);
  return { instructions: [], functions };
}

export function planFault(nameOrPath: string, options: PlanOptions): InjectedFault {
  const path = driverPath(nameOrPath);
  const d = disassemble(path);
  if (options.fn && !d.functions.some((f) => f.own && f.name === options.fn)) {
    throw new Error(`${basename(path)} has no function "${options.fn}" of its own (its functions: ${d.functions.filter((f) => f.own).map((f) => f.name).join(', ')})`);
  }
  const elf = readFileSync(path);
  const hook = nullDerefHooks.find((h) => dynamicSymbol(elf, h) !== undefined);
  const rng = seeded(options.seed);
  const usable = faultTypes.filter((t) => {
    const s = sites(d, t, options, hook);
    return s.instructions.length + s.functions.length > 0 || s.hook;
  });
  const type = options.type ?? rng.pick(usable);
  if (!usable.includes(type)) throw new Error(`no site for a ${type} fault in ${basename(path)}${options.fn ? `'s ${options.fn}` : ''}`);
  const base = { driver: driverName(path), type, seed: options.seed, transient: options.transient ?? true };
  const s = sites(d, type, options, hook);
  if (s.hook) return { ...base, kind: 'targeted', site: { function: s.hook }, hook: s.hook };
  if (isBinary(type)) {
    for (let draws = 1; ; draws++) {
      const i = rng.pick(s.instructions);
      const after = mutate(type, i, rng);
      if (makesRefusedSequence(d, i, after)) {
        if (draws < 100) continue;
        throw new Error(`no ${type} fault in ${basename(path)} that the loader takes: each one drawn made a WRPKRU, XRSTOR or WR{FS,GS}BASE sequence`);
      }
      return {
        ...base, kind: 'binary',
        site: { function: i.fn, offset: i.offset, instruction: `${i.mnemonic} ${i.operands}`.trim() },
        patch: { offset: i.offset, before: i.bytes.toString('hex'), after: after.toString('hex') },
      };
    }
  }
  const f = rng.pick(s.functions);
  const before = d.instructions.filter((i) => i.offset >= f.start && i.offset < f.start + lkdtmPatchSize);
  const original = Buffer.concat(before.map((i) => i.bytes)).subarray(0, lkdtmPatchSize);
  return {
    ...base, kind: 'targeted',
    site: { function: f.name, offset: f.start },
    patch: { offset: f.start, before: original.toString('hex'), after: lkdtmPatch(type as TargetedType, f, d.symbol('nooks_lkdtm')!).toString('hex') },
  };
}

/**
 * Whether `after` written over `i` makes a sequence the loader refuses in a
 * driver's text (native/loader/text_patch.cc): it looks at the patch with two
 * bytes of the code on each side, as the loader does. Such a fault would never load.
 */
function makesRefusedSequence(d: Disassembly, i: Instruction, after: Buffer): boolean {
  const k = d.instructions.indexOf(i);
  let left = Buffer.alloc(0);
  for (let j = k - 1, at = i.offset; j >= 0 && left.length < 2 && d.instructions[j].offset + d.instructions[j].bytes.length === at; j--) {
    left = Buffer.concat([d.instructions[j].bytes, left]);
    at = d.instructions[j].offset;
  }
  let right = Buffer.alloc(0);
  for (let j = k + 1, at = i.offset + i.bytes.length; j < d.instructions.length && right.length < 2 && d.instructions[j].offset === at; j++) {
    right = Buffer.concat([right, d.instructions[j].bytes]);
    at += d.instructions[j].bytes.length;
  }
  return native().pkruSequenceAt(Buffer.concat([left.subarray(-2), after, right.subarray(0, 2)])) >= 0;
}

/** The fault as the loader takes it (`kernel.load(path, { patches })`), for text patches. */
export function textPatch(f: InjectedFault): TextPatch | undefined {
  return f.patch ? { offset: f.patch.offset, bytes: Buffer.from(f.patch.after, 'hex'), transient: f.transient } : undefined;
}

/** Injects the fault into a running driver: writes the patch over its text, or arms its hook (armHook). */
export function applyFault(kernel: Kernel, driver: Driver, f: InjectedFault): void {
  const patch = textPatch(f);
  if (patch) return driver.patchText(patch);
  armHook(kernel, driver, f.hook!, f.transient);
}

/** The kernel's events armHook follows: a recovery arms the fault again, the others end it with the driver. */
const armingEvents = ['recovered', 'disabled', 'fallback'] as const;

/**
 * Arms a hook fault. A persistent one is armed again after each recovery of the driver, until the driver is
 * disabled, replaced by its fallback (the fault was in the binary that went) or unloaded; a transient one (it
 * strikes once) at the next recovery only if the driver failed before it was armed.
 *
 * A fault that ends an arming call is recovered inside that call (a call's fault is recovered before it throws), so
 * its 'recovered' comes while the call is in progress. Arming there would nest each recovery one call deeper, until
 * the stack overflows under a policy that allows a few hundred failures; the recovery is noted instead, and the
 * loop arms again once the call has returned.
 */
function armHook(kernel: Kernel, driver: Driver, hook: string, transient: boolean): void {
  let arming = false;
  let again = false; // a persistent fault's arming call was ended by a fault, which was recovered
  const stop = () => armingEvents.forEach((e) => kernel.off(e, onEvent));
  const armUntilSettled = () => {
    arming = true;
    try {
      do {
        again = false;
        if (arm(driver, hook) && transient) stop();
      } while (again && driver.state === 'running');
    } catch (e) {
      stop(); // no hook to arm (ENOSYM...): nothing to arm again either
      throw e;
    } finally {
      arming = false;
    }
  };
  const onEvent = (e: RecoveryEvent) => {
    if (driver.state === 'unloaded') return stop(); // no event says so: the next one, any driver's, lets go
    if (e.driver !== driver.name) return;
    if (e.event !== 'recovered') return stop();
    if (driver.state !== 'running') return;
    // inside the arming call, the recovery of its own fault: a transient one has struck, a persistent one strikes again
    if (arming) again = !transient;
    else armUntilSettled();
  };
  // listening before the first arming call: a fault ending it is recovered inside it, and a persistent fault
  // strikes again after that recovery as after any other
  armingEvents.forEach((e) => kernel.on(e, onEvent));
  armUntilSettled();
  // disabled before or during the arming (its events gone by): no event will come to let go
  if (driver.state === 'disabled' || driver.state === 'unloaded') stop();
}

/**
 * Calls the driver's hook; false when the call did not enter (not armed). The
 * fault it arms may strike on another of the driver's threads before the call
 * returns, and end the call too (under 'process' a fault ends every call in
 * flight in the host): that failure is the injected one, recovered as any
 * other, not an error of the injection. A fault on another thread may also
 * fail the driver before the call enters (DriverUnavailable, EUNAVAILABLE).
 */
function arm(driver: Driver, hook: string): boolean {
  try {
    driver.call(hook);
  } catch (e) {
    if (e instanceof DriverUnavailable && e.code === 'EUNAVAILABLE') return false;
    if (!(e instanceof DriverFault)) throw e;
  }
  return true;
}

/** `corrupt-pointer in blk_submit+0x2a (mov 0x8(%rbx),%rax): 488b4308 -> 488b4708` */
export function describeFault(f: Pick<InjectedFault, 'type' | 'site' | 'patch' | 'hook' | 'transient'>): string {
  if (f.hook) return `${f.type} through the driver's hook ${f.hook}() (${f.transient ? 'transient' : 'persistent'})`;
  const at = `${f.site.function}${f.site.instruction ? ` at 0x${f.site.offset!.toString(16)} (${f.site.instruction})` : ''}`;
  return `${f.type} in ${at}: ${f.patch!.before} -> ${f.patch!.after} (${f.transient ? 'transient' : 'persistent'})`;
}

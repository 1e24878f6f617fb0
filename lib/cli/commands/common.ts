// What every command shares: the context it runs in, a kernel that is always
// shut down (its threads keep the process alive until then), number parsing,
// tables and JSON.
import { DriverFault, DriverUnavailable, Kernel, type BootOptions, type Driver } from '../../kernel.js';
import type { NativeObject } from '../../native.js';
import { loadPolicy, type Policy } from '../../recovery/policy.js';
import { UsageError } from '../args.js';

export interface Flags {
  json: boolean;
  isolation: string | undefined;
  'time-budget': string | undefined;
  policy: string | undefined;
  times: string | undefined;
  runs: string | undefined;
  iters: string | undefined;
  seconds: string | undefined;
  seed: string | undefined;
  type: string | undefined;
  site: string | undefined;
  persistent: boolean;
  transient: boolean;
  trials: string | undefined;
  jobs: string | undefined;
  out: string | undefined;
  fresh: boolean;
  quick: boolean;
  force: boolean;
  driver: string | undefined;
  workload: string | undefined;
  shard: string | undefined;
  class: string | undefined;
  program: boolean;
  lang: string | undefined;
  device: string[] | undefined;
}

export interface Context {
  args: string[];
  /** Where the command line had `--`: the arguments after it (the last of args too). */
  dashed?: string[];
  flags: Flags;
  /** Output (stdout): human text, or the JSON document with --json. */
  print: (line?: string) => void;
}

/** A command returns its exit code: 0 done, 1 error, 2 a driver call faulted (`run`). */
export type Command = (ctx: Context) => Promise<number>;

export type IsolationChoice = NonNullable<BootOptions['isolation']>;

export function isolationOf(ctx: Context): IsolationChoice {
  return (ctx.flags.isolation ?? 'auto') as IsolationChoice;
}

/** Boots a kernel, runs `body`, and shuts the kernel down whatever happens. */
export async function withKernel<T>(options: BootOptions, body: (k: Kernel) => Promise<T>): Promise<T> {
  const kernel = await Kernel.boot(options);
  try {
    return await body(kernel);
  } finally {
    await kernel.shutdown();
  }
}

/** The --policy file, or `fallback` without one. */
export function policyOf(ctx: Context, fallback?: Policy): Policy | undefined {
  return ctx.flags.policy ? loadPolicy(ctx.flags.policy) : fallback;
}

/** --time-budget: the driver's watchdog in ms, or undefined for the policy's. */
export function timeBudgetOf(ctx: Context): number | undefined {
  return ctx.flags['time-budget'] === undefined ? undefined : intFlag(ctx, 'time-budget', 0);
}

/** A positive integer flag (`--runs 5`), or `fallback` when absent. */
export function intFlag(ctx: Context, name: 'time-budget' | 'times' | 'runs' | 'iters' | 'trials' | 'jobs', fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = ctx.flags[name];
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got "${raw}"`);
  if (n > max) throw new UsageError(`--${name} must be at most ${max}, got "${raw}"`);
  return n;
}

/**
 * A driver-call argument from the command line: decimal or 0x hex integers
 * (negative ones after `--`), true/false, or `@probe` for the address of the
 * kernel's canary object (what `wild_write` aims at). `which` names it in
 * errors: `argument 2 of crashy.add`.
 */
export function parseCallArg(raw: string, probe: () => number, which: string): number | bigint | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === '@probe') return probe();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(raw)) {
    throw new UsageError(`${which} is "${raw}": driver call arguments are integers (decimal or 0x hex), true, false or @probe`);
  }
  const negative = raw.startsWith('-');
  const big = BigInt(negative ? raw.slice(1) : raw) * (negative ? -1n : 1n);
  if (big > 0xffff_ffff_ffff_ffffn || big < -(2n ** 63n)) {
    throw new UsageError(`${which} is "${raw}", which does not fit in 64 bits: a driver call argument is one 64-bit register (-2^63 .. 2^64-1)`);
  }
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** What a failed call looked like, for output. */
export interface FaultInfo {
  kind: string;
  message: string;
  address?: string;
  ip?: string;
}

export function faultInfo(e: unknown): FaultInfo | undefined {
  if (e instanceof DriverFault) {
    // DriverFault messages start with the driver's name: the output names it already.
    const message = e.message.startsWith(`${e.driver}: `) ? e.message.slice(e.driver.length + 2) : e.message;
    return { kind: e.kind, message, address: e.address, ip: e.ip };
  }
  if (e instanceof DriverUnavailable) return { kind: 'unavailable', message: e.message };
  return undefined;
}

/** Calls `fn` and returns its result or the fault it ended in; other errors are thrown. */
export function tryCall(drv: Driver, fn: string, ...args: (number | bigint | boolean)[]):
  { ok: true; value: number | bigint } | { ok: false; fault: FaultInfo } {
  try {
    return { ok: true, value: drv.call(fn, ...args) };
  } catch (e) {
    const fault = faultInfo(e);
    if (!fault) throw e;
    return { ok: false, fault };
  }
}

/** `memory 1, timer 2, work 1 (4)` */
export function objectSummary(objects: readonly NativeObject[]): string {
  if (objects.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.type, (counts.get(o.type) ?? 0) + 1);
  return `${[...counts].map(([t, n]) => `${t} ${n}`).join(', ')} (${objects.length})`;
}

/** True when both lists hold the same number of objects of each type. */
export function sameObjectTypes(a: readonly NativeObject[], b: readonly NativeObject[]): boolean {
  const key = (l: readonly NativeObject[]) => l.map((o) => o.type).sort().join(',');
  return key(a) === key(b);
}

export type Align = 'left' | 'right';

/** A plain-text table: a header row, a rule, the rows. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export function ms(x: number): string {
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

export const sleep = (msec: number) => new Promise<void>((r) => setTimeout(r, msec));

/** Fault kinds whose address says where the driver reached (the others carry 0x0). */
export const addressKinds: readonly string[] = ['segv', 'pkey', 'bus', 'stack-overflow'];

// The recovery policy file: what the recovery agent does when a driver faults,
// and the limits the kernel enforces on each driver. JSON or YAML, validated by
// hand so that every error names the file, the key path and what was expected.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { native } from '../native.js';
import { driverPath } from '../paths.js';

/**
 * What to do when a driver faults. `restart` and `fallback` restart it until it
 * has failed `maxFailures` times within `windowMs`, then disable it or replace it
 * with the fallback driver; `disable` gives up on the first fault.
 */
export type Action = 'restart' | 'disable' | 'fallback';

/** The limits part of a driver's policy. */
export interface Limits {
  /** Give up on the driver after this many failures... */
  readonly maxFailures: number;
  /** ...within this sliding window. */
  readonly windowMs: number;
  /** Watchdog: the longest a single call may stay inside the driver. */
  readonly timeBudgetMs: number;
  /** The driver's heap + DMA limit. */
  readonly memLimitBytes: number;
  /** Nanny: a request (block), a stream (sound) or bytes (serial) the driver sits on this long is a failure ('stalled'). */
  readonly stallMs: number;
  /**
   * Shadow driver: its class keeps the driver's devices and the requests in
   * flight across a restart, so applications keep their handles and lose
   * nothing (native/shadow); without it (plain Nooks) they fail. Classes that
   * have a shadow: block, net, sound, serial.
   */
  readonly shadow: boolean;
  /**
   * A program that ends with one of these statuses is not restarted (systemd's RestartPreventExitStatus=): it
   * has ended, with that status, as one ended by status 0 has. Default 2 and 64 (EX_USAGE): a usage error, which
   * the same arguments would repeat run after run.
   */
  readonly preventRestartExitStatus: readonly number[];
}

/** One driver's policy, every field resolved. `fallback` is the path of the driver that replaces it. */
export type DriverPolicy = Limits &
  ({ readonly action: 'restart' | 'disable' } | { readonly action: 'fallback'; readonly fallback: string });

export interface Policy {
  /** For every driver without its own entry. */
  readonly default: DriverPolicy;
  /** Per-driver entries, already merged over `default`. */
  readonly drivers: ReadonlyMap<string, DriverPolicy>;
}

export const defaultPolicy: Policy = {
  default: { action: 'restart', maxFailures: 5, windowMs: 60_000, timeBudgetMs: 2_000, memLimitBytes: 64 << 20, stallMs: 5_000, shadow: true, preventRestartExitStatus: [2, 64] },
  drivers: new Map(),
};

/** A policy file that cannot be read or is invalid; the message says where and why. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

export function policyFor(policy: Policy, driverName: string): DriverPolicy {
  return policy.drivers.get(driverName) ?? policy.default;
}

/** A policy in code written like the file: `drivers` a mapping, every key optional. */
export interface PolicyDocument {
  readonly default?: Partial<DriverPolicy>;
  readonly drivers?: Readonly<Record<string, Partial<DriverPolicy>>>;
}

const isBuilt = (policy: Policy | PolicyDocument): policy is Policy => policy?.drivers instanceof Map;

/**
 * Checks a Policy built in code (JavaScript has no type checker to do it) by
 * the checks and in the words of a policy file's, every entry complete (none
 * merged over another). Throws a PolicyError naming each entry and key.
 * One written like the file (no Map of drivers) is validated and resolved as the file is.
 */
export function checkPolicy(policy: Policy | PolicyDocument): Policy {
  if (!isBuilt(policy)) return resolve(policy, 'policy');
  resolve({ default: policy?.default, drivers: Object.fromEntries(policy.drivers) }, 'policy', { complete: true });
  return policy;
}

/** What is wrong with a limit (timeBudgetMs, memLimitBytes, ...), in the words of policy errors; undefined if nothing. */
export function limitProblem(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) return `expected a positive integer, got ${describe(v)}`;
  return undefined;
}

/** What is wrong with a flag (shadow), in the words of policy errors; undefined if nothing. */
export function flagProblem(v: unknown): string | undefined {
  if (typeof v !== 'boolean') return `expected true or false, got ${describe(v)}`;
  return undefined;
}

/** What is wrong with a list of exit statuses (preventRestartExitStatus), in the words of policy errors; undefined if nothing. */
function statusesProblem(v: unknown): string | undefined {
  const isStatus = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 255;
  if (!Array.isArray(v) || !v.every(isStatus)) return `expected a list of exit statuses (integers 0 to 255), got ${describe(Array.isArray(v) ? v.find((n) => !isStatus(n)) : v)}`;
  return undefined;
}

/**
 * Checks what parsing cannot: that every fallback driver could take over, as
 * far as the loader tells without running it (the file, its kernel-API
 * version, its symbols and code: checkDriver, as kernel.load checks the
 * fallback of the driver it loads). Throws one PolicyError naming every entry whose fallback fails.
 */
export function checkFallbacks(policy: Policy, file: string): void {
  const problems: string[] = [];
  for (const [where, d] of [['default', policy.default], ...[...policy.drivers].map(([n, e]) => [`drivers.${n}`, e])] as [string, DriverPolicy][]) {
    if (d.action !== 'fallback') continue;
    try {
      native().checkDriver(driverPath(d.fallback));
    } catch (e) {
      const err = e as Error & { code?: string };
      const hint = err.code === 'ENOENT' ? ' (a driver name in build/drivers or a path to a .so)' : '';
      problems.push(`${where}.fallback: ${err.message}${hint} [${err.code ?? 'ELOAD'}]`);
    }
  }
  if (problems.length) throw problemsError(file, problems);
}

/** Every problem found in `file` as one error: one alone as `file: where: what`, several one a line. */
function problemsError(file: string, problems: readonly string[]): PolicyError {
  return new PolicyError(problems.length === 1 ? `${file}: ${problems[0]}`
    : `${file}: ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** Reads and validates a policy file; `.json`, `.yaml` or `.yml`. */
export function loadPolicy(path: string): Policy {
  syntaxOf(path); // a wrong extension is reported before touching the disk
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyError(`${path}: ${readProblem(err)}`, { cause: err });
  }
  return parsePolicy(text, path);
}

/** Validates policy text; `fileName` picks the syntax by extension and names the file in errors. */
export function parsePolicy(text: string, fileName: string): Policy {
  return resolve(parseSyntax(text, fileName), fileName);
}

function syntaxOf(file: string): 'json' | 'yaml' {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  throw new PolicyError(`${file}: a policy file must end in .json, .yaml or .yml`);
}

function parseSyntax(text: string, file: string): unknown {
  if (syntaxOf(file) === 'json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      // V8 gives an offset for most JSON errors ("... in JSON at position 12"); turn it into line:column.
      const message = (err as Error).message;
      const at = / in JSON at position (\d+)/.exec(message);
      if (!at) throw new PolicyError(`${file}: ${message}`);
      throw new PolicyError(`${file}:${lineCol(text, Number(at[1]))}: ${message.slice(0, at.index)}`);
    }
  }
  // yaml is loaded at the first YAML file, not with nooks: its 70-odd modules were most of what importing nooks
  // cost (4 s of each Node start in the tests' QEMU guests, under TCG and over 9p), for a policy few read as YAML
  const { parseDocument } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { prettyErrors: false });
  const [first] = doc.errors; // later errors are usually echoes of the first
  if (first) throw new PolicyError(`${file}:${lineCol(text, first.pos[0])}: ${first.message}`);
  return doc.toJS();
}

function lineCol(text: string, offset: number): string {
  const lines = text.slice(0, offset).split('\n');
  return `${lines.length}:${lines[lines.length - 1].length + 1}`;
}

function readProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT': return 'no such policy file';
    case 'EISDIR': return 'is a directory, not a policy file';
    case 'EACCES':
    case 'EPERM': return 'cannot read the policy file: permission denied';
    default: return `cannot read the policy file: ${(err as Error).message}`;
  }
}

const actionNames: readonly Action[] = ['restart', 'disable', 'fallback'];
const isAction = (v: unknown): v is Action => actionNames.includes(v as Action);
const entryKeys = ['action', 'fallback', 'maxFailures', 'windowMs', 'timeBudgetMs', 'memLimitBytes', 'stallMs', 'shadow', 'preventRestartExitStatus'];

/** A key an entry built in code lacks: what it needs. */
const spreadHint = ' (spread defaultPolicy.default into entries built in code)';

/**
 * Validates the parsed document and merges each driver's entry over the default; reports every bad entry and key at
 * once. `complete`: a Policy built in code, whose every entry has every key (no entry is merged over another).
 */
function resolve(doc: unknown, file: string, { complete = false } = {}): Policy {
  // a problem is thrown where it is found, and kept where the check that found it was made: the checks go on
  const fail = (path: string, message: string) => new PolicyError(`${path ? `${path}: ` : ''}${message}`);
  const problems: string[] = [];
  const kept = <T>(check: () => T, otherwise: T): T => {
    try {
      return check();
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      problems.push(e.message);
      return otherwise;
    }
  };

  // An empty section (`drivers:` with everything commented out) reads as null: treat it as empty.
  const mapping = (value: unknown, path: string, keys?: readonly string[]): Record<string, unknown> => {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw fail(path, `expected a mapping, got ${describe(value)}`);
    const unknown = keys && Object.keys(value).find((k) => !keys.includes(k));
    if (unknown !== undefined) throw fail(join(path, unknown), `unknown key (expected one of ${keys!.join(', ')})`);
    return value as Record<string, unknown>;
  };

  // `base`: what the entry's keys default to (none: every key is there); `driver`: its driver's name (none for the default entry).
  const entry = (value: unknown, path: string, base: DriverPolicy | undefined, driver?: string): DriverPolicy => {
    const raw = mapping(value, path, entryKeys);
    const field = <K extends keyof Limits>(key: K, problemOf: (v: unknown) => string | undefined): Limits[K] => kept(() => {
      const v = raw[key];
      if (v === undefined && base) return base[key];
      const problem = problemOf(v);
      if (problem) throw fail(join(path, key), v === undefined ? `${problem}${spreadHint}` : problem);
      return v as Limits[K];
    }, (base ?? defaultPolicy.default)[key]);
    const limits: Limits = {
      maxFailures: field('maxFailures', limitProblem),
      windowMs: field('windowMs', limitProblem),
      timeBudgetMs: field('timeBudgetMs', limitProblem),
      memLimitBytes: field('memLimitBytes', limitProblem),
      stallMs: field('stallMs', limitProblem),
      shadow: field('shadow', flagProblem),
      preventRestartExitStatus: field('preventRestartExitStatus', statusesProblem),
    };

    const action = raw.action === undefined ? base?.action : raw.action;
    if (!isAction(action)) throw fail(join(path, 'action'), `expected one of ${actionNames.join(', ')}, got ${describe(action)}${action === undefined ? spreadHint : ''}`);
    if (action !== 'fallback') {
      if (raw.fallback !== undefined) throw fail(join(path, 'fallback'), `only used with action "fallback", but action is "${action}"`);
      return { action, ...limits };
    }
    const fallback = raw.fallback === undefined && base?.action === 'fallback' ? base.fallback : raw.fallback;
    if (fallback === undefined) throw fail(path, 'action "fallback" needs a "fallback" key with the path of the fallback driver');
    if (typeof fallback !== 'string' || fallback === '') {
      throw fail(join(path, 'fallback'), `expected the path of the fallback driver, got ${describe(fallback)}`);
    }
    if (driver !== undefined && driverPath(fallback) === driverPath(driver))
      throw fail(join(path, 'fallback'), `${describe(fallback)} is the driver itself: a driver cannot be its own fallback`);
    return { action, fallback, ...limits };
  };

  const root = kept(() => mapping(doc, '', ['default', 'drivers']), {});
  const base = kept(() => entry(root.default, 'default', complete ? undefined : defaultPolicy.default), defaultPolicy.default);
  const drivers = new Map(
    Object.entries(kept(() => mapping(root.drivers, 'drivers'), {}))
      .map(([name, value]) => [name, kept(() => entry(value, join('drivers', name), complete ? undefined : base, name), base)]),
  );
  if (problems.length) throw problemsError(file, problems);
  return { default: base, drivers };
}

/** `drivers.crashy`, or `drivers["my driver"]` when the name would be ambiguous. */
function join(path: string, key: string): string {
  if (!/^[A-Za-z_][\w-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

/** A value as errors show it: `"text"`, `-1`, `null`, `a list`, `a mapping`. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
export { describe as describeValue };

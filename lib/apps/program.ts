// What the applications share as programs. Each application is a Program:
// the `--name value` options it takes, and a run() that does its job and
// returns its outcome. It runs as `node dist/lib/apps/<name>.js ...` or as
// `nooks app <name> ...` (lib/cli/commands/app.ts); either way the outcome is
// one JSON line on stdout, and the exit status is 0 when it says ok, 1 when
// not, 2 for a usage mistake.
import { fileURLToPath } from 'node:url';
import { Kernel, type Isolation } from '../kernel.js';

export interface Outcome {
  ok: boolean;
  error?: { code: string; message: string };
  /** The isolation the application's driver ran under. */
  isolation?: Isolation;
}

export interface Program {
  name: string;
  /** The device class it works on. */
  class: 'block' | 'serial' | 'sound' | 'net';
  /** One line: what it does. */
  summary: string;
  /** Its options, in the help's order: `--name` → what the value is (a leading `!` marks it required). */
  options: Readonly<Record<string, string>>;
  /** Its switches, which take no value: `--name` → what it does; given, its value in run() is 'true'. */
  switches?: Readonly<Record<string, string>>;
  run(options: Readonly<Record<string, string | undefined>>): Promise<Outcome>;
}

/** A mistake in a program's options; the message includes the usage. */
export class UsageMistake extends Error {
  readonly code = 'EINVAL';
}

export function usageLine(p: Program): string {
  // the value's name only: what comes before ': ' or ' ('
  const opts = Object.entries(p.options).map(([name, what]) => {
    const value = what.replace(/^!/, '').split(/: | \(/)[0];
    return what.startsWith('!') ? `--${name} ${value}` : `[--${name} ${value}]`;
  });
  return [p.name, ...opts, ...Object.keys(p.switches ?? {}).map((name) => `[--${name}]`)].join(' ');
}

/** `--name value` pairs, checked against what `p` takes. */
export function parseOptions(p: Program, argv: readonly string[]): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  const fail = (why: string) => new UsageMistake(`${why}; usage: ${usageLine(p)}`);
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name !== undefined && p.switches && name in p.switches) {
      values[name] = 'true';
      continue;
    }
    if (name === undefined || !(name in p.options)) throw fail(`unexpected ${name === undefined ? 'argument' : 'option'} "${argv[i]}"`);
    if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) throw fail(`--${name} needs a value`);
    values[name] = argv[++i];
  }
  for (const [name, what] of Object.entries(p.options)) {
    if (what.startsWith('!') && values[name] === undefined) throw fail(`--${name} is required`);
  }
  return values;
}

/** A number option, or `fallback` when absent; a value that is no number, or a negative one, is a usage mistake. */
export function numberOption(values: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number;
export function numberOption(values: Readonly<Record<string, string | undefined>>, name: string): number | undefined;
export function numberOption(values: Readonly<Record<string, string | undefined>>, name: string, fallback?: number): number | undefined {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageMistake(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

/** Runs `p` with `argv`, prints its outcome as one JSON line; resolves with the exit status. */
export async function runProgram(p: Program, argv: readonly string[]): Promise<number> {
  let outcome: Outcome;
  let status: number;
  try {
    outcome = await p.run(parseOptions(p, argv));
    status = outcome.ok ? 0 : 1;
  } catch (e) {
    const err = e as Error & { code?: unknown };
    outcome = { app: p.name, ok: false, error: { code: typeof err.code === 'string' ? err.code : 'EFAIL', message: err.message } } as Outcome;
    status = e instanceof UsageMistake ? 2 : 1;
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return status;
}

/** The `--isolation` option of the applications that boot a kernel. */
export const isolationOption = 'MODE: auto, pkey, mprotect, process or none (default auto)';

/** Boots a kernel in the `--isolation` asked for, runs `work` on it and shuts it down; the outcome says the isolation. */
export async function withProgramKernel<T extends Outcome>(
  o: Readonly<Record<string, string | undefined>>, work: (kernel: Kernel) => Promise<T>,
): Promise<T> {
  const kernel = await Kernel.boot({ isolation: (o.isolation ?? 'auto') as Isolation | 'auto' });
  try {
    return { ...(await work(kernel)), isolation: kernel.isolation };
  } finally {
    await kernel.shutdown();
  }
}

/** At the end of an application's module: run it when the module is the program node was started with. */
export function runIfMain(moduleUrl: string, p: Program): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  // exit rather than wait for handles (ttys, sockets) to close: the outcome is printed
  void runProgram(p, process.argv.slice(2)).then((status) => process.exit(status));
}

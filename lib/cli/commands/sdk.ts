// The driver SDK on the command line: `nooks build` (compile and link a
// driver as the in-tree ones are), `nooks sdk` (the flags, for make or CMake)
// and `nooks new` (a commented driver, its test and a workload to start from).
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { native } from '../../native.js';
import { packageRoot } from '../../paths.js';
import { buildDriver } from '../../sdk/build.js';
import { cflags, includeDirs, ldflags, posixCompileFlags, posixLdflags } from '../../sdk/flags.js';
import { newDriver, type DriverClass } from '../../sdk/new.js';
import { UsageError } from '../args.js';
import { toJson, type Context } from './common.js';

/** The kernel-API version drivers built now are stamped with (gen/nooks/abi.h). */
function kapiVersion(): string {
  const header = readFileSync(join(packageRoot, 'gen', 'nooks', 'abi.h'), 'utf8');
  return /#define NOOKS_KAPI_VERSION "([^"]+)"/.exec(header)?.[1] ?? 'unknown';
}

/** `-X value` or `-Xvalue`: the value, and how many tokens it took. */
function valued(args: readonly string[], i: number, flag: string): [string, number] {
  if (args[i].length > flag.length) return [args[i].slice(flag.length), 1];
  const v = args[i + 1];
  if (v === undefined || v.startsWith('-')) throw new UsageError(`build: ${flag} needs a value: ${flag} <${flag === '-o' ? 'out.so' : flag === '-I' ? 'dir' : 'name[=value]'}>`);
  return [v, 2];
}

/**
 * What the loader would refuse (a libc call outside the personality, thread-local
 * data, constructors without it...) fails the build, which removes the driver:
 * said now, with the loader's words and code, not at its first load.
 */
function refusedAtLoad(path: string): void {
  try {
    native().checkDriver(path);
  } catch (e) {
    rmSync(path, { force: true });
    const err = e as Error & { code?: string };
    throw Object.assign(new Error(`the build made a driver nooks would refuse to load (removed): ${err.message}`), { code: err.code });
  }
}

export async function build(ctx: Context): Promise<number> {
  const sources: string[] = [], dirs: string[] = [], defines: string[] = [];
  let out: string | undefined;
  let json = false, posix = false;
  for (let i = 0; i < ctx.args.length;) {
    const a = ctx.args[i];
    const flag = ['-I', '-D', '-o'].find((f) => a.startsWith(f));
    if (a === '--json' || a === '--posix') {
      if (a === '--json') json = true;
      else posix = true;
      i++;
    } else if (flag) {
      const [v, n] = valued(ctx.args, i, flag);
      if (flag === '-I') dirs.push(v);
      else if (flag === '-D') defines.push(v);
      else out = v;
      i += n;
    } else if (a.startsWith('-')) {
      throw new UsageError(`build: unknown option ${a}: the options are -I <dir>, -D <name[=value]>, -o <out.so>, --posix, --json`);
    } else {
      sources.push(a);
      i++;
    }
  }
  if (sources.length === 0) throw new UsageError('build: no source files; usage: nooks build <sources...> [-I dir] [-D name[=value]] [-o out.so] [--posix]');
  const built = buildDriver({ sources, out, includeDirs: dirs, defines, posix });
  if (built.warnings) process.stderr.write(`${built.warnings}\n`);
  refusedAtLoad(built.path);
  const version = kapiVersion();
  if (json) ctx.print(toJson({ path: built.path, kapiVersion: version, warnings: built.warnings }));
  else ctx.print(`built ${relative(process.cwd(), built.path) || built.path} (kernel API ${version})`);
  return 0;
}

export async function sdk(ctx: Context): Promise<number> {
  const lists: Record<string, () => string[]> = {
    '--cflags': cflags, '--ldflags': ldflags, '--posix-cflags': posixCompileFlags, '--posix-ldflags': posixLdflags, '--include-dir': () => [...includeDirs], '--kapi-version': () => [kapiVersion()],
  };
  const json = ctx.args.includes('--json');
  const asked = ctx.args.filter((a) => a !== '--json');
  for (const a of asked) {
    if (!lists[a]) throw new UsageError(`sdk: unknown option ${a}: one of ${Object.keys(lists).join(', ')}, --json`);
  }
  const shown = asked.length ? asked : Object.keys(lists);
  if (json) {
    ctx.print(toJson(Object.fromEntries(shown.map((a) => [a.slice(2), lists[a]()]))));
  } else if (asked.length) {
    for (const a of shown) ctx.print(lists[a]().join(' '));
  } else {
    for (const a of shown) ctx.print(`${a.padEnd(15)} ${lists[a]().join(' ')}`);
  }
  return 0;
}

export async function newCommand(ctx: Context): Promise<number> {
  const [name] = ctx.args;
  const cls = (ctx.flags.class ?? 'plain') as DriverClass;
  const made = newDriver(name, cls, process.cwd(), ctx.flags.force);
  if (ctx.flags.json) {
    ctx.print(toJson({ name, class: cls, ...made }));
    return 0;
  }
  ctx.print(`wrote ${made.files.join(', ')}`);
  const scripts = Object.keys(made.scripts);
  if (scripts.length) ctx.print(`added to package.json: ${scripts.map((s) => `npm run ${s}`).join(', ')}`);
  else ctx.print('no package.json here: no scripts added');
  ctx.print('');
  ctx.print('next:');
  ctx.print(`  npx nooks build ${name}/${name}.c -o build/${name}.so`);
  ctx.print(`  node --test ${name}/${name}.test.mjs                      # loads it and calls it`);
  ctx.print(`  npx nooks inject build/${name}.so --workload ${name}/workload.mjs   # one injected fault`);
  return 0;
}

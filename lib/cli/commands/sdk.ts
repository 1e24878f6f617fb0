// The driver SDK on the command line: `nooks build` (compile and link a
// driver as the in-tree ones are), `nooks sdk` (the flags, for make or CMake)
// and `nooks new` (a commented driver, its test and a workload to start from).
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { native } from '../../native.js';
import { packageRoot } from '../../paths.js';
import { buildDriver } from '../../sdk/build.js';
import { cflags, cxxCompileFlags, cxxLdflags, includeDirs, ldflags, posixCompileFlags, posixCxxCompileFlags, posixLdflags } from '../../sdk/flags.js';
import { newDriver, type DriverClass, type DriverLanguage, type DriverTemplate } from '../../sdk/new.js';
import { ownOptionText, UsageError, type OwnOption } from '../args.js';
import { toJson, type Context } from './common.js';

/** The kernel-API version drivers built now are stamped with (gen/nooks/abi.h). */
function kapiVersion(): string {
  const header = readFileSync(join(packageRoot, 'gen', 'nooks', 'abi.h'), 'utf8');
  return /#define NOOKS_KAPI_VERSION "([^"]+)"/.exec(header)?.[1] ?? 'unknown';
}

/** What `nooks build` parses besides --json (its --help lists them from here). */
export const buildOptions: readonly OwnOption[] = [
  { option: '-I', value: 'dir', help: 'Search this directory for headers, before the package\'s (any number of times)' },
  { option: '-D', value: 'name[=value]', help: 'Define a macro (any number of times)' },
  { option: '-o', value: 'out.so', help: 'The driver to write, or a folder for <first source>.so (default: <first source>.so in the working directory)' },
  { option: '--posix', help: 'A driver written against libc: the system\'s headers, the POSIX personality linked in' },
];

/** What `nooks sdk` prints, by the option that asks for it (its --help lists them from here). */
export const sdkOptions: readonly (OwnOption & { values: () => string[] })[] = [
  { option: '--cflags', help: 'Compiler flags with the include directories', values: cflags },
  { option: '--ldflags', help: 'Linker flags with the driver runtime (after the objects)', values: ldflags },
  { option: '--posix-cflags', help: 'Compiler flags for a driver written against libc (as nooks build --posix)', values: posixCompileFlags },
  { option: '--posix-ldflags', help: 'Linker flags for a driver written against libc', values: posixLdflags },
  { option: '--cxxflags', help: 'C++ compiler flags ($CXX) with the include directories, for a driver\'s C++ sources', values: cxxCompileFlags },
  { option: '--cxx-ldflags', help: 'Linker flags of a driver with C++ sources: the C++ runtime too ($CC links)', values: () => cxxLdflags(false) },
  { option: '--posix-cxxflags', help: 'C++ compiler flags for a driver written against libc', values: posixCxxCompileFlags },
  { option: '--posix-cxx-ldflags', help: 'Linker flags for a driver written against libc with C++ sources', values: () => cxxLdflags(true) },
  { option: '--include-dir', help: 'The include directories', values: () => [...includeDirs] },
  { option: '--kapi-version', help: 'The kernel-API version drivers are stamped with', values: () => [kapiVersion()] },
];

/** `-X value` or `-Xvalue`: the value, and how many tokens it took. */
function valued(args: readonly string[], i: number, o: OwnOption): [string, number] {
  if (args[i].length > o.option.length) return [args[i].slice(o.option.length), 1];
  const v = args[i + 1];
  if (v === undefined || v.startsWith('-')) throw new UsageError(`build: ${o.option} needs a value: ${ownOptionText(o)}`);
  return [v, 2];
}

/**
 * What the loader would refuse (a libc call outside the personality, thread-local
 * data, constructors without it...) fails the build, which removes the driver:
 * said now, with the loader's words and code, not at its first load.
 */
function refusedAtLoad(path: string): void {
  const loader = native(); // an addon that cannot load says nothing of the driver: it is kept
  try {
    loader.checkDriver(path);
  } catch (e) {
    rmSync(path, { force: true });
    const err = e as Error & { code?: string };
    throw Object.assign(new Error(`the build made a driver nooks would refuse to load (removed): ${err.message}`), { code: err.code });
  }
}

export async function build(ctx: Context): Promise<number> {
  const sources: string[] = [], dirs: string[] = [], defines: string[] = [];
  let out: string | undefined;
  let json = ctx.flags.json, posix = false;  // --json before the command name is nooks's, after it build's
  for (let i = 0; i < ctx.args.length;) {
    const a = ctx.args[i];
    const o = buildOptions.find((b) => (b.value ? a.startsWith(b.option) : a === b.option));
    if (a === '--json') {
      json = true;
      i++;
    } else if (o?.option === '--posix') {
      posix = true;
      i++;
    } else if (o) {
      const [v, n] = valued(ctx.args, i, o);
      if (o.option === '-I') dirs.push(v);
      else if (o.option === '-D') defines.push(v);
      else out = v;
      i += n;
    } else if (a.startsWith('-')) {
      throw new UsageError(`build: unknown option ${a}: the options are ${[...buildOptions.map(ownOptionText), '--json'].join(', ')}`);
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
  const json = ctx.flags.json || ctx.args.includes('--json');
  const asked = ctx.args.filter((a) => a !== '--json').map((a) => {
    const o = sdkOptions.find((s) => s.option === a);
    if (!o) throw new UsageError(`sdk: unknown option ${a}: one of ${sdkOptions.map((s) => s.option).join(', ')}, --json`);
    return o;
  });
  const shown = asked.length ? asked : sdkOptions;
  if (json) {
    ctx.print(toJson(Object.fromEntries(shown.map((o) => [o.option.slice(2), o.values()]))));
  } else if (asked.length) {
    for (const o of shown) ctx.print(o.values().join(' '));
  } else {
    for (const o of shown) ctx.print(`${o.option.padEnd(15)} ${o.values().join(' ')}`);
  }
  return 0;
}

export async function newCommand(ctx: Context): Promise<number> {
  const [name] = ctx.args;
  if (ctx.flags.program && ctx.flags.class !== undefined) {
    throw new UsageError('new: --program or --class, not both: a program has no class, nooks exec --device gives it its device');
  }
  const program = ctx.flags.program;
  const template: DriverTemplate = program ? 'program' : ((ctx.flags.class ?? 'plain') as DriverClass);
  const lang = (ctx.flags.lang ?? 'c') as DriverLanguage;
  const made = newDriver(name, template, process.cwd(), ctx.flags.force, lang);
  if (ctx.flags.json) {
    ctx.print(toJson({ name, ...(program ? { program } : { class: template }), ...made }));
    return 0;
  }
  ctx.print(`wrote ${made.files.join(', ')}`);
  const scripts = Object.keys(made.scripts);
  if (scripts.length) ctx.print(`added to package.json: ${scripts.map((s) => `npm run ${s}`).join(', ')}`);
  else ctx.print('no package.json here: no scripts added');
  ctx.print('');
  ctx.print('next:');
  ctx.print(`  npx nooks build ${program ? '--posix ' : ''}${made.files[0]} -o build/${name}.so`);
  if (program) ctx.print(`  npx nooks exec build/${name}.so --device e1000 -- -t 500   # main on an emulated e1000; Ctrl-C stops it`);
  ctx.print(`  node --test ${name}/${name}.test.mjs                      # ${program ? 'pulls its cable, stops it, plants a bug' : 'loads it and calls it'}`);
  ctx.print(`  npx nooks inject build/${name}.so --workload ${name}/workload.mjs   # one injected fault`);
  if (!program) ctx.print(`  npx nooks bench driver --driver build/${name}.so --workload ${name}/bench.mjs   # what each isolation mode costs it`);
  return 0;
}

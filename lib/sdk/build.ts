// `nooks build`: compiles and links a driver outside this package exactly as
// the in-tree drivers are built (lib/sdk/flags.ts: the same flags, headers and
// driver runtime), in one compiler run; with `posix`, unmodified C written
// against libc, with the POSIX personality linked in (docs/drivers.md). C++
// sources (.cc .cpp .cxx) are compiled first, each by the C++ compiler, and
// linked with the rest by the C compiler, with the C++ runtime.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { makeDirs } from '../dirs.js';
import { rebuildAdvice } from '../paths.js';
import { cxxLdflags, driverCflags, driverCxxflags, includeDirs, ldflags, posixCflags, posixCxxflags, posixLdflags } from './flags.js';

export interface BuildOptions {
  /** C, C++ (.cc .cpp .cxx) or assembly sources, from the working directory. */
  sources: readonly string[];
  /** The shared object to write (default: the first source's name with .so, in the working directory). */
  out?: string;
  /** More include directories, searched before the package's. */
  includeDirs?: readonly string[];
  /** Macros: `NAME` or `NAME=value`. */
  defines?: readonly string[];
  /** More compiler flags, after the driver flags (e.g. -Werror, -g); the C++ sources' too unless extraCxxflags is given (less a C -std=). */
  extraCflags?: readonly string[];
  /** More flags for the C++ sources instead of extraCflags, which then go to the C sources only (as make's CXXFLAGS and CFLAGS). */
  extraCxxflags?: readonly string[];
  /** More linker flags, after the driver runtime. */
  extraLdflags?: readonly string[];
  /** Unmodified C against the system's headers, with the POSIX personality (a libc subset) linked in. */
  posix?: boolean;
}

/** A build that failed: the compiler's own output is in the message. */
export class BuildError extends Error {
  override name = 'BuildError';
  constructor(readonly code: 'ENOENT' | 'ENOCC' | 'ENORUNTIME' | 'EBUILD', message: string, compilerOutput?: string) {
    super(`${message} [${code}]${compilerOutput ? `:\n${compilerOutput}` : ''}`);
  }
}

/** The C compiler: $CC, else cc (what node-gyp's make uses for the in-tree drivers). */
export function compiler(): string {
  return process.env.CC?.trim() || 'cc';
}

/** The C++ compiler: $CXX, else g++ (as node-gyp's make). */
export function cxxCompiler(): string {
  return process.env.CXX?.trim() || 'g++';
}

const cxxExtensions = ['.cc', '.cpp', '.cxx'];

export function isCxxSource(path: string): boolean {
  return cxxExtensions.includes(extname(path));
}

/** Whether a -std= of the user's names a C++ standard (gnu++20, c++2a) or a C one (c17): each goes to its language's compiler. */
const isCxxStd = (flag: string) => flag.includes('++');

/** Runs `command` (a compiler, with any arguments of $CC or $CXX) on args; throws its output when it fails. */
function runCompiler(command: string, what: string, args: string[], sources: readonly string[]): string {
  const [cc, ...ccArgs] = command.split(/\s+/);
  const r = spawnSync(cc, [...ccArgs, ...args], { encoding: 'utf8' });
  if (r.error) {
    throw new BuildError('ENOCC', `cannot run the ${what} compiler '${cc}': ${r.error.message} (Debian/Ubuntu: apt-get install ${what === 'C' ? 'gcc; or set CC' : 'g++; or set CXX'})`);
  }
  if (r.status !== 0) {
    throw new BuildError('EBUILD', `${sources.join(' ')}: the compiler failed (exit ${r.status})`, (r.stderr || r.stdout).trimEnd());
  }
  return r.stderr.trimEnd();
}

export interface Built {
  /** The shared object, absolute. */
  path: string;
  /** What the compiler warned about ('' when nothing). */
  warnings: string;
}

export function buildDriver(options: BuildOptions): Built {
  if (options.sources.length === 0) throw new BuildError('ENOENT', 'no source files given');
  for (const s of options.sources) {
    if (!existsSync(s)) throw new BuildError('ENOENT', `${s}: no such source file`);
    if (statSync(s).isDirectory()) throw new BuildError('ENOENT', `${s}: is a directory, not a source file`);
  }
  const cxx = options.sources.filter(isCxxSource);
  const link = cxx.length ? cxxLdflags(options.posix ?? false) : options.posix ? posixLdflags() : ldflags();
  for (const archive of link.filter((f) => f.endsWith('.a') && !f.startsWith('-'))) {
    if (!existsSync(archive)) throw new BuildError('ENORUNTIME', `the driver runtime ${archive} is not built (${rebuildAdvice})`);
  }
  // -o a folder (one there, or a name ending in /): the default name in it
  const named = `${basename(options.sources[0], extname(options.sources[0]))}.so`;
  const folder = options.out !== undefined && (options.out.endsWith('/') || (existsSync(options.out) && statSync(options.out).isDirectory()));
  const out = resolve(options.out === undefined ? named : folder ? join(options.out, named) : options.out);
  makeDirs(dirname(out));
  const extra = options.extraCflags ?? [];
  const common = [
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...[...(options.includeDirs ?? []), ...includeDirs].map((d) => `-I${d}`),
  ];
  const warnings: string[] = [];
  // each C++ source to an object of its own (in a folder removed after), linked with the rest below
  const objects = cxx.length ? mkdtempSync(join(tmpdir(), 'nooks-build-')) : undefined;
  try {
    const cxxExtra = options.extraCxxflags ?? extra.filter((f) => !f.startsWith('-std=') || isCxxStd(f));
    const cxxFlags = [...(options.posix ? posixCxxflags : driverCxxflags), ...cxxExtra, ...common];
    const linked = options.sources.map((s, i) => {
      if (!isCxxSource(s)) return s;
      const object = join(objects!, `${i}-${basename(s)}.o`);
      warnings.push(runCompiler(cxxCompiler(), 'C++', [...cxxFlags, '-c', s, '-o', object], [s]));
      return object;
    });
    const args = [
      ...(options.posix ? posixCflags : driverCflags), ...extra.filter((f) => !f.startsWith('-std=') || !isCxxStd(f)), ...common,
      ...linked, '-o', out, ...link, ...(options.extraLdflags ?? []),
    ];
    warnings.push(runCompiler(compiler(), 'C', args, options.sources));
  } finally {
    if (objects) rmSync(objects, { recursive: true, force: true });
  }
  return { path: out, warnings: warnings.filter((w) => w).join('\n') };
}

// `nooks build`: compiles and links a driver outside this package exactly as
// the in-tree drivers are built (lib/sdk/flags.ts: the same flags, headers and
// driver runtime), in one compiler run; with `posix`, unmodified C written
// against libc, with the POSIX personality linked in (docs/drivers.md).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { makeDirs } from '../dirs.js';
import { rebuildAdvice } from '../paths.js';
import { driverCflags, includeDirs, ldflags, posixCflags, posixLdflags } from './flags.js';

export interface BuildOptions {
  /** C (or assembly) sources, from the working directory. */
  sources: readonly string[];
  /** The shared object to write (default: the first source's name with .so, in the working directory). */
  out?: string;
  /** More include directories, searched before the package's. */
  includeDirs?: readonly string[];
  /** Macros: `NAME` or `NAME=value`. */
  defines?: readonly string[];
  /** More compiler flags, after the driver flags (e.g. -Werror, -g). */
  extraCflags?: readonly string[];
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
  const link = options.posix ? posixLdflags() : ldflags();
  for (const archive of link.filter((f) => f.endsWith('.a'))) {
    if (!existsSync(archive)) throw new BuildError('ENORUNTIME', `the driver runtime ${archive} is not built (${rebuildAdvice})`);
  }
  // -o a folder (one there, or a name ending in /): the default name in it
  const named = `${basename(options.sources[0], extname(options.sources[0]))}.so`;
  const folder = options.out !== undefined && (options.out.endsWith('/') || (existsSync(options.out) && statSync(options.out).isDirectory()));
  const out = resolve(options.out === undefined ? named : folder ? join(options.out, named) : options.out);
  makeDirs(dirname(out));
  const args = [
    ...(options.posix ? posixCflags : driverCflags), ...(options.extraCflags ?? []),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...[...(options.includeDirs ?? []), ...includeDirs].map((d) => `-I${d}`),
    ...options.sources, '-o', out, ...link, ...(options.extraLdflags ?? []),
  ];
  const [cc, ...ccArgs] = compiler().split(/\s+/);
  const r = spawnSync(cc, [...ccArgs, ...args], { encoding: 'utf8' });
  if (r.error) {
    throw new BuildError('ENOCC', `cannot run the C compiler '${cc}': ${r.error.message} (Debian/Ubuntu: apt-get install gcc; or set CC)`);
  }
  if (r.status !== 0) {
    throw new BuildError('EBUILD', `${options.sources.join(' ')}: the compiler failed (exit ${r.status})`, (r.stderr || r.stdout).trimEnd());
  }
  return { path: out, warnings: r.stderr.trimEnd() };
}

// Builds small C drivers at test time, with the flags the real drivers get:
// the cflags and ldflags are read from binding.gyp and drivers/driver.gypi so
// a test driver cannot drift from what the build produces.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/paths.js';

/** The quoted items of `'key': [ ... ]` in a gyp file. */
function gypList(file: string, key: string): string[] {
  const text = readFileSync(join(packageRoot, file), 'utf8').replace(/#.*$/gm, '');
  const m = new RegExp(`'${key}'\\s*:\\s*\\[([^\\]]*)\\]`).exec(text);
  if (!m) throw new Error(`${file}: no '${key}' list`);
  return [...m[1].matchAll(/'([^']*)'/g)].map((x) => x[1]);
}

function driverFlags(): { cflags: string[]; ldflags: string[] } {
  const driverCflags = gypList('binding.gyp', 'driver_cflags');
  const cflags = gypList('drivers/driver.gypi', 'cflags').flatMap((f) => (f === '<@(driver_cflags)' ? driverCflags : [f]));
  return { cflags, ldflags: ['-shared', ...gypList('drivers/driver.gypi', 'ldflags')] };
}

/** Compiles `source` into `<dir>/<name>.so` as a driver (linked with `extraLdflags` too); returns the path. */
export function buildDriver(dir: string, name: string, source: string, extraLdflags: string[] = []): string {
  const runtime = join(packageRoot, 'build', 'Release', 'driver_rt.a');
  if (!existsSync(runtime)) throw new Error(`${runtime} is missing: build the native code first`);
  const { cflags, ldflags } = driverFlags();
  const src = join(dir, `${name}.c`);
  const obj = join(dir, `${name}.o`);
  const so = join(dir, `${name}.so`);
  writeFileSync(src, source);
  const include = ['-I', join(packageRoot, 'native', 'include'), '-I', join(packageRoot, 'gen')];
  execFileSync('gcc', [...cflags, ...include, '-c', src, '-o', obj], { stdio: 'pipe' });
  execFileSync('gcc', [...ldflags, '-o', so, obj, runtime, ...extraLdflags], { stdio: 'pipe' });
  return so;
}

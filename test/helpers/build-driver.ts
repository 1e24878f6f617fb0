// Drivers made at test time: small C drivers built with the SDK (lib/sdk/build.ts:
// the flags, headers and runtime of the in-tree drivers, held to no warnings as
// they are), and in-tree drivers copied under another name.
import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { driverPath, packageRoot } from '../../lib/paths.js';
import { buildDriver as build } from '../../lib/sdk/build.js';

/** The in-tree crashy driver copied to `<dir>/<name>.so` (a driver named `name`, with a policy entry of its own); the path. */
export function crashyAs(dir: string, name: string): string {
  const path = join(dir, `${name}.so`);
  copyFileSync(driverPath('crashy'), path);
  return path;
}

/** Compiles `source` into `<dir>/<name>.so` as a driver (with `options` of the SDK's build); returns the path. */
export function buildDriver(dir: string, name: string, source: string, options: { posix?: boolean; extraCflags?: string[]; extraLdflags?: string[] } = {}): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  return build({
    sources: [src], out: join(dir, `${name}.so`), posix: options.posix,
    extraCflags: ['-Werror', ...(options.extraCflags ?? [])], extraLdflags: options.extraLdflags,
  }).path;
}

/**
 * test/fixtures/drivers/<name>.c built into build/test-drivers/<name>.so
 * (`posix`: against libc, with the POSIX personality); the path. The QEMU
 * guest has no compiler: there (NOOKS_TEST_DRIVERS_PREBUILT) it is the build
 * test/guest-pkey.test.ts made before it booted the guest.
 * Built under a name of this process's own, then renamed: files run in parallel.
 */
export function fixtureDriver(name: string, options: { posix?: boolean } = {}): string {
  const out = join(packageRoot, 'build', 'test-drivers', `${name}.so`);
  if (process.env.NOOKS_TEST_DRIVERS_PREBUILT) {
    if (!existsSync(out)) throw new Error(`${out}: not built before the guest booted`);
    return out;
  }
  const tmp = join(packageRoot, 'build', 'test-drivers', `.${process.pid}`, `${name}.so`);
  build({ sources: [join(packageRoot, 'test', 'fixtures', 'drivers', `${name}.c`)], out: tmp, posix: options.posix, extraCflags: ['-Werror'] });
  renameSync(tmp, out);
  rmSync(dirname(tmp), { recursive: true, force: true });
  return out;
}

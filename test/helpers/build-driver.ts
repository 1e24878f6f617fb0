// Builds small C drivers at test time with the SDK (lib/sdk/build.ts): the
// flags, headers and runtime of the in-tree drivers, held to no warnings as they are.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDriver as build } from '../../lib/sdk/build.js';

/** Compiles `source` into `<dir>/<name>.so` as a driver (with `options` of the SDK's build); returns the path. */
export function buildDriver(dir: string, name: string, source: string, options: { posix?: boolean; extraCflags?: string[]; extraLdflags?: string[] } = {}): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  return build({
    sources: [src], out: join(dir, `${name}.so`), posix: options.posix,
    extraCflags: ['-Werror', ...(options.extraCflags ?? [])], extraLdflags: options.extraLdflags,
  }).path;
}

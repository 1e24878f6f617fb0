// Where the package's built parts live, wherever it is run from (source or dist/).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) throw new Error(`nooks: cannot find the package root above ${from}`);
  }
}

export const packageRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const driversDir = join(packageRoot, 'build', 'drivers');

/** A driver given by name ('crashy') is the one built into build/drivers; anything else is a path. */
export function driverPath(nameOrPath: string): string {
  if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.so')) return join(driversDir, `${nameOrPath}.so`);
  return resolve(nameOrPath);
}

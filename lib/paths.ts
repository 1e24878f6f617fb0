// Where the package's built parts live, wherever it is run from (source or dist/).
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) throw new Error(`nooks: cannot find the package root above ${from}`);
  }
}

export const packageRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const driversDir = join(packageRoot, 'build', 'drivers');

/**
 * How to build the package's native parts again: in its checkout, or in a
 * project that installed nooks, where npm 12 and later skip a dependency's
 * install script (the build) until the project allows it.
 */
export const rebuildAdvice = packageRoot.split(/[\\/]/).includes('node_modules')
  ? '`npm rebuild nooks`; npm 12 and later run its build only once the project allows it: `npm install-scripts approve nooks` first'
  : '`npm run build`';

/** The drivers built with the package (build/drivers/*.so), by name. */
export function builtInDrivers(): string[] {
  return existsSync(driversDir) ? readdirSync(driversDir).filter((f) => f.endsWith('.so')).map((f) => f.slice(0, -3)).sort() : [];
}

/**
 * A driver given by name ('crashy') is the one built into build/drivers;
 * anything with a '/' or ending in .so is a path, from the working directory.
 */
export function driverPath(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.so')) return resolve(nameOrPath);
  return join(driversDir, `${nameOrPath}.so`);
}

/** A driver's name: its file's name without .so (`build/hello.so` -> `hello`). */
export function driverName(nameOrPath: string): string {
  return basename(driverPath(nameOrPath)).replace(/\.so$/, '');
}

/** driverPath, for loading: a name that is not built in is refused, naming the ones that are (ENOENT). */
export function loadableDriverPath(nameOrPath: string): string {
  const path = driverPath(nameOrPath);
  if (path === join(driversDir, `${nameOrPath}.so`) && !existsSync(path)) {
    const known = builtInDrivers();
    throw Object.assign(new Error(`no built-in driver '${nameOrPath}' (no ${path}) [ENOENT]: ` +
      (known.length ? `the built-in drivers are ${known.join(', ')}` : `none is built in ${driversDir} (${rebuildAdvice})`) +
      `; load a driver of your own by its path (./build/${nameOrPath}.so)`), { code: 'ENOENT' });
  }
  return path;
}

// `nooks new <name> [--class ...]`: a commented driver of that class, a test
// that builds on it, a fault-injection workload and a bench module (the
// class bench's load on the driver), from templates/<class>/, and scripts in
// the project's package.json to build, test and bench it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { makeDirs } from '../dirs.js';
import { packageRoot } from '../paths.js';

export const driverClasses = ['plain', 'block', 'net', 'serial', 'sound'] as const;
export type DriverClass = (typeof driverClasses)[number];

export interface NewDriver {
  /** The files written, relative to the project. */
  files: string[];
  /** The scripts added to package.json ({} when there is none). */
  scripts: Record<string, string>;
}

export class NewDriverError extends Error {
  override name = 'NewDriverError';
  constructor(readonly code: 'EINVAL' | 'EEXIST', message: string) {
    super(`${message} [${code}]`);
  }
}

/** Writes driver `name` of `cls` into `<project>/<name>/`; refuses to overwrite unless `force`. */
export function newDriver(name: string, cls: DriverClass, project: string, force = false): NewDriver {
  if (!/^[a-z_][a-z0-9_]{0,31}$/.test(name)) {
    throw new NewDriverError('EINVAL', `'${name}' is not a driver name: lower-case letters, digits and _, starting with a letter (it names C symbols)`);
  }
  if (!(driverClasses as readonly string[]).includes(cls)) {
    throw new NewDriverError('EINVAL', `unknown class '${cls}': one of ${driverClasses.join(', ')}`);
  }
  const templates = join(packageRoot, 'templates', cls);
  const dir = resolve(project, name);
  const files: [from: string, to: string][] = [
    ['driver.c', `${name}.c`], ['driver.test.mjs', `${name}.test.mjs`], ['workload.mjs', 'workload.mjs'], ['bench.mjs', 'bench.mjs'],
  ];
  const there = files.map(([, to]) => join(dir, to)).filter((f) => existsSync(f));
  if (there.length && !force) {
    throw new NewDriverError('EEXIST', `${there.map((f) => relative(project, f)).join(', ')} already exist(s): choose another name, or --force to overwrite`);
  }
  makeDirs(dir);
  for (const [from, to] of files) writeFileSync(join(dir, to), readFileSync(join(templates, from), 'utf8').replaceAll('@NAME@', name));

  // the test file itself: Node 21 and later take `node --test <dir>` as a module to run (MODULE_NOT_FOUND)
  const scripts: Record<string, string> = {
    [`build:${name}`]: `nooks build ${name}/${name}.c -o build/${name}.so`,
    [`test:${name}`]: `npm run build:${name} && node --test ${name}/${name}.test.mjs`,
    [`bench:${name}`]: `npm run build:${name} && nooks bench driver --driver build/${name}.so --workload ${name}/bench.mjs --seconds 1 --runs 3`,
  };
  const pkgPath = join(project, 'package.json');
  if (!existsSync(pkgPath)) return { files: files.map(([, to]) => `${name}/${to}`), scripts: {} };
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { scripts?: Record<string, string> };
  pkg.scripts = { ...pkg.scripts, ...scripts };
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  return { files: files.map(([, to]) => `${name}/${to}`), scripts };
}

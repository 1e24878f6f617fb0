// `nooks new <name> [--class ...] [--lang c++]`: a commented driver of that class, a test
// that builds on it, a fault-injection workload and a bench module (the
// class bench's load on the driver), from templates/<class>/, and scripts in
// the project's package.json to build, test and bench it. `nooks new --program
// <name>`: a driver that is a program (main, docs/drivers.md "Programs"), its
// test and workload, from templates/program/, built with --posix.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { makeDirs } from '../dirs.js';
import { packageRoot } from '../paths.js';

export const driverClasses = ['plain', 'block', 'net', 'serial', 'sound'] as const;
export type DriverClass = (typeof driverClasses)[number];
/** What `nooks new` writes: a driver of a class, or a program (`--program`). */
export type DriverTemplate = DriverClass | 'program';

/** The languages a driver is written in: templates/<template>/driver.c and driver.cc (a template without the file refuses the language). */
export const driverLanguages = ['c', 'c++'] as const;
export type DriverLanguage = (typeof driverLanguages)[number];
const sourceExtension: Record<DriverLanguage, string> = { c: 'c', 'c++': 'cc' };

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

type ProjectPackage = { name?: string; bin?: Record<string, string>; scripts?: Record<string, string> };

/** The project's package.json; one that is no JSON object is refused, naming it, before any file is written. */
function projectPackage(path: string): ProjectPackage {
  const refused = (why: string) =>
    new NewDriverError('EINVAL', `${path}: ${why}: nooks new adds the driver's scripts to it; fix it, or run nooks new where there is no package.json`);
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw refused(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) throw refused('not a JSON object');
  return pkg as ProjectPackage;
}

/** Writes driver `name` of `template` in `lang` into `<project>/<name>/`; refuses to overwrite unless `force`. */
export function newDriver(name: string, template: DriverTemplate, project: string, force = false, lang: DriverLanguage = 'c'): NewDriver {
  if (!/^[a-z_][a-z0-9_]{0,31}$/.test(name)) {
    throw new NewDriverError('EINVAL', `'${name}' is not a driver name: lower-case letters, digits and _, starting with a letter (it names C symbols)`);
  }
  if (template !== 'program' && !(driverClasses as readonly string[]).includes(template)) {
    throw new NewDriverError('EINVAL', `unknown class '${template}': one of ${driverClasses.join(', ')}`);
  }
  if (!(driverLanguages as readonly string[]).includes(lang)) {
    throw new NewDriverError('EINVAL', `unknown language '${lang}': one of ${driverLanguages.join(', ')}`);
  }
  const templates = join(packageRoot, 'templates', template);
  const ext = sourceExtension[lang];
  if (!existsSync(join(templates, `driver.${ext}`))) {
    const what = template === 'program' ? 'a program' : `class '${template}'`;
    const written = driverClasses.filter((c) => existsSync(join(packageRoot, 'templates', c, `driver.${ext}`)));
    throw new NewDriverError('EINVAL', `no ${lang} template for ${what}: --lang ${lang} writes a driver of class ${written.join(' or ')} only`);
  }
  const dir = resolve(project, name);
  const source = `${name}.${ext}`;
  // a program has no bench module: nooks bench driver measures calls into a driver, and a program is not called
  const files = ([[`driver.${ext}`, source], ['driver.test.mjs', `${name}.test.mjs`], ['workload.mjs', 'workload.mjs'], ['bench.mjs', 'bench.mjs']] as const)
    .filter(([from]) => existsSync(join(templates, from)));
  const there = files.map(([, to]) => join(dir, to)).filter((f) => existsSync(f));
  if (there.length && !force) {
    throw new NewDriverError('EEXIST', `${there.map((f) => relative(project, f)).join(', ')} already exist(s): choose another name, or --force to overwrite`);
  }
  const pkgPath = join(project, 'package.json');
  const pkg = existsSync(pkgPath) ? projectPackage(pkgPath) : undefined;
  makeDirs(dir);
  for (const [from, to] of files) {
    writeFileSync(join(dir, to), readFileSync(join(templates, from), 'utf8').replaceAll('@SOURCE@', `${name}/${source}`).replaceAll('@NAME@', name));
  }

  if (!pkg) return { files: files.map(([, to]) => `${name}/${to}`), scripts: {} };
  // in the nooks checkout itself npm puts no `nooks` on the scripts' PATH (a package's own bin is not linked): its CLI by path
  const nooks = pkg.name === 'nooks' && pkg.bin?.nooks ? `node ${pkg.bin.nooks}` : 'nooks';
  // the test file itself: Node 21 and later take `node --test <dir>` as a module to run (MODULE_NOT_FOUND)
  const scripts: Record<string, string> = {
    [`build:${name}`]: `${nooks} build ${template === 'program' ? '--posix ' : ''}${name}/${source} -o build/${name}.so`,
    [`test:${name}`]: `npm run build:${name} && node --test ${name}/${name}.test.mjs`,
  };
  const bench = `bench:${name}`;
  if (files.some(([from]) => from === 'bench.mjs'))
    scripts[bench] = `npm run build:${name} && ${nooks} bench driver --driver build/${name}.so --workload ${name}/bench.mjs --seconds 1 --runs 3`;
  pkg.scripts = { ...pkg.scripts, ...scripts };
  // a program over a driver of that name (--force): the driver's bench script would measure the program, which is not called
  if (!(bench in scripts)) delete pkg.scripts[bench];
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  return { files: files.map(([, to]) => `${name}/${to}`), scripts };
}

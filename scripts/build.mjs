#!/usr/bin/env node
// Builds nooks. Run by `npm install` (in this checkout and in every project
// that installs nooks) and by `npm run build`:
//  1. checks for the tools the native build needs, and names any that is missing;
//  2. in a checkout (lib/ holds the TypeScript sources): compiles them into
//     dist/ (a packed nooks ships dist/ and needs no TypeScript);
//  3. generates gen/ from the interface descriptions (lib/wrappers);
//  4. node-gyp: the addon, the driver runtime and the in-tree drivers
//     (configured again only when a .gyp file or the driver flags changed).
// `node scripts/build.mjs --check-tools` does step 1 alone.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, 'package.json'));

function onPath(name) {
  if (name.includes('/')) return existsSync(name);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir || '.', name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// What node-gyp runs, and the Debian package that has it.
const tools = [
  { what: 'Python 3 (node-gyp runs gyp with it)', names: [process.env.npm_config_python, process.env.PYTHON, 'python3'], pkg: 'python3' },
  { what: 'make', names: ['make'], pkg: 'make' },
  { what: 'a C compiler', names: [process.env.CC, 'cc', 'gcc'], pkg: 'gcc' },
  { what: 'a C++ compiler', names: [process.env.CXX, 'c++', 'g++'], pkg: 'g++' },
];

function checkTools() {
  const missing = tools.filter((t) => !t.names.some((n) => n && onPath(n.split(' ')[0])));
  if (missing.length === 0) return;
  console.error(`nooks: cannot build its native parts (the addon and the drivers): missing ${missing.map((t) => t.what).join(', ')}.`);
  console.error(`  On Debian or Ubuntu: apt-get install ${missing.map((t) => t.pkg).join(' ')}   (or: build-essential python3)`);
  console.error('  Then build again: npm rebuild nooks (in a project that uses nooks), npm run build (in its checkout).');
  process.exit(1);
}

function run(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`nooks: ${what} failed${r.signal ? ` (${r.signal})` : ` (exit ${r.status})`}`);
    process.exit(1);
  }
}

function resolveBin(pkg, bin) {
  try {
    return require.resolve(`${pkg}/${bin}`);
  } catch {
    console.error(`nooks: ${pkg} is not installed next to nooks: run npm install`);
    process.exit(1);
  }
}

checkTools();
if (process.argv.includes('--check-tools')) process.exit(0);

if (existsSync(join(root, 'lib', 'index.ts'))) run('compiling lib/ (tsc)', [resolveBin('typescript', 'bin/tsc'), '-p', root]);
run('generating gen/', [join(root, 'dist', 'lib', 'wrappers', 'generate.js')]);

const nodeGyp = resolveBin('node-gyp', 'bin/node-gyp.js');
const makefile = join(root, 'build', 'Makefile');
// Configure inputs: every .gyp/.gypi file, and the driver flags binding.gyp reads.
function gypFiles(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.gypi?$/.test(e.name)).map((e) => join(e.parentPath ?? e.path, e.name));
}
const configureInputs = [join(root, 'binding.gyp'), join(root, 'dist', 'lib', 'sdk', 'flags.js'), ...gypFiles('drivers'), ...gypFiles('native')];
const stale = !existsSync(makefile) || configureInputs.some((f) => statSync(f).mtimeMs > statSync(makefile).mtimeMs);
if (stale) run('node-gyp configure', [nodeGyp, 'configure']);
run('node-gyp build', [nodeGyp, 'build', '-j', String(availableParallelism())]);

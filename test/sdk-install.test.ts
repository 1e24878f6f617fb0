// The path a user takes, as a user takes it: pack nooks, install the tarball
// into a fresh project (which sees neither this checkout's sources nor its
// node_modules), write a driver with `nooks new`, build it with `nooks build`,
// load it through import('nooks'), pass it a buffer and a string, fault it and
// see it restarted, run the template's own tests and a campaign on it.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';

const work = mkdtempSync(join(tmpdir(), 'nooks-sdk-'));
const project = join(work, 'my drv'); // a space in its path: the install's build and the driver's own files must survive it
let tarball: string;

// The outer `npm test` leaves npm_* variables meant for this package: a user's shell has none.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));

/** Runs a command in the project (asynchronously: an install takes a minute); its stdout, or an error with its output. */
function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: project, env, timeout: 120_000, maxBuffer: 64 << 20, ...options }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(new Error(`${cmd} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stdout}\n${stderr}`), { stderr }));
      else resolve(stdout);
    });
  });
}

beforeAll(async () => {
  // dist/ is built by npm install before the tests: pack it as is
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: packageRoot });
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  mkdirSync(project);
  await run('npm', ['init', '-y']);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { timeout: 600_000 });
}, 660_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('nooks installed into another project', () => {
  it('the tarball holds the compiled library and what the native build needs; no tests, no CI, no TypeScript sources', async () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files).toContain('dist/lib/testing.js');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/include/nooks/kapi.h');
    expect(files).toContain('templates/plain/driver.c');
    expect(files).toContain('templates/program/driver.c'); // nooks new --program
    expect(files.filter((f) => /^(test|\.ci|gen|build)\//.test(f) || (f.startsWith('lib/') && f.endsWith('.ts')))).toEqual([]);
    // installed without TypeScript: nothing type-only was needed
    await expect(run('node', ['-e', "require.resolve('typescript')"])).rejects.toThrow(/Cannot find module 'typescript'/);
  });

  it('nooks new, nooks build, import(\'nooks\'): calls, a buffer, a string, a fault contained and the driver restarted', async () => {
    expect(await run('npx', ['nooks', 'new', 'hello'])).toContain('wrote hello/hello.c, hello/hello.test.mjs, hello/workload.mjs, hello/bench.mjs');
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build:hello']).toBe('nooks build hello/hello.c -o build/hello.so');
    expect(await run('npx', ['nooks', 'build', 'hello/hello.c', '-o', 'build/hello.so'])).toMatch(/^built build\/hello\.so \(kernel API kapi-[0-9a-f]{12}\)/);

    writeFileSync(join(project, 'use.mjs'), `
      import { DriverFault, Kernel } from 'nooks';
      const k = await Kernel.boot();
      const d = await k.load('build/hello.so');
      const out = { isolation: k.isolation, add: d.call('add', 2, 3) };
      const buf = d.alloc(5);
      d.write(buf, Buffer.from([1, 2, 3, 4, 5]));
      out.checksum = d.call('checksum', buf, 5);
      out.readBack = [...d.read(buf, 5)];
      out.greet = d.call('greet', d.cstring('user'));
      out.logged = k.log().some((l) => l.source === 'hello' && l.text.includes('hello, user'));
      try { d.call('oops'); } catch (e) { out.fault = e instanceof DriverFault ? e.kind : String(e); }
      out.state = d.state;
      out.calls = d.call('calls');
      out.recoveries = k.domains()[0].recoveries;
      out.after = d.call('add', 40, 2);
      await k.shutdown();
      console.log(JSON.stringify(out));
    `);
    expect(JSON.parse(await run('node', ['use.mjs']))).toEqual({
      isolation: 'mprotect', add: 5, checksum: 15, readBack: [1, 2, 3, 4, 5], greet: 4, logged: true,
      fault: 'segv', state: 'running', calls: 0, recoveries: 1, after: 42,
    });
  });

  it('from CommonJS (the project npm init -y makes): require(\'nooks\') where Node loads ES modules with require, and import(\'nooks\')', async () => {
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { type?: string };
    expect(pkg.type ?? 'commonjs').toBe('commonjs'); // as README warns: its import example needs a .mjs file here
    writeFileSync(join(project, 'use.cjs'), `
      const viaRequire = process.features.require_module ? require('nooks').Kernel : undefined;
      import('nooks').then(async ({ Kernel }) => {
        const k = await Kernel.boot();
        const d = await k.load('build/hello.so');
        console.log(JSON.stringify({ same: viaRequire === undefined || viaRequire === Kernel, add: d.call('add', 2, 3) }));
        await k.shutdown();
      });
    `);
    expect(JSON.parse(await run('node', ['use.cjs']))).toEqual({ same: true, add: 5 });
  });

  it('the template\'s own tests pass (npm run test:hello)', async () => {
    const out = await run('npm', ['run', 'test:hello']);
    expect(out).toMatch(/# pass 3\n# fail 0/);
  });

  it('the template\'s bench runs out of the box (npm run bench:hello): every mode this machine runs, relative to none', async () => {
    const out = await run('npm', ['run', '--silent', 'bench:hello', '--', '--json'], { timeout: 120_000 });
    const d = JSON.parse(out.slice(out.indexOf('\n{') + 1)); // after the build's line
    expect(d).toMatchObject({ workload: 'hello/bench', seconds: 1, runs: 3 });
    for (const m of d.modes.filter((x: { supported: boolean }) => x.supported)) expect(m, m.isolation).toMatchObject({ unit: 'calls/s', relative: expect.any(Number) });
    expect(d.modes.filter((x: { supported: boolean }) => x.supported).length).toBeGreaterThanOrEqual(3); // none, mprotect, process
  }, 150_000);

  it('nooks inject and a 10-trial campaign on the driver, with the template\'s workload', async () => {
    // a NULL dereference at the entry of add(): without isolation the host dies; isolated, the driver restarts
    const inject = async (isolation: string) => JSON.parse(await run('npx', ['nooks', 'inject', 'build/hello.so', '--workload', 'hello/workload.mjs',
      '--seed', '1', '--type', 'null-deref', '--site', 'add', '--isolation', isolation, '--json'], { timeout: 60_000 }));
    expect(await inject('none')).toMatchObject({ hostCrashed: true, outcome: 'crash' });
    expect(await inject('mprotect')).toMatchObject({ hostCrashed: false, faultKinds: ['segv'] });

    const summary = JSON.parse(await run('npx', ['nooks', 'campaign', '--driver', 'build/hello.so', '--workload', 'hello/workload.mjs',
      '--trials', '10', '--seed', '7', '--jobs', '2', '--out', 'campaign.jsonl', '--json'], { timeout: 300_000 }));
    const lines = readFileSync(join(project, 'campaign.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const modes = Object.keys(summary.byMode);
    // hello calls no device class: nothing to shadow, so each isolation once
    expect(modes).toEqual(['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process']);
    expect(lines[0].plan.trials).toBe(10);
    expect(lines.slice(1)).toHaveLength(10 * modes.length);
    expect(summary.trials).toBe(10 * modes.length);
    for (const m of modes) expect(summary.byMode[m].trials).toBe(10);
    for (const x of lines.slice(1)) expect(x).toMatchObject({ driver: 'hello', mode: expect.any(String), outcome: expect.any(String) });
  }, 420_000);

  it('installed with its build skipped (as npm 12 does until the project approves it), nooks says how to build it', async () => {
    const skipped = join(work, 'skipped');
    mkdirSync(skipped);
    await run('npm', ['init', '-y'], { cwd: skipped });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], { cwd: skipped, timeout: 300_000 });
    const boot = await run('node', ['--input-type=module', '-e', "const { Kernel } = await import('nooks'); await Kernel.boot();"], { cwd: skipped })
      .then(() => expect.fail('nooks booted without its addon'), (e: Error & { stderr: string }) => e.stderr);
    expect(boot).toMatch(/cannot load the nooks addon at \S+ \(build it: `npm rebuild nooks`; npm 12 and later run its build only once the project allows it: `npm install-scripts approve nooks` first\)/);
    const build = await run('npx', ['nooks', 'build', join(project, 'hello', 'hello.c'), '-o', 'hello.so'], { cwd: skipped })
      .then(() => expect.fail('a driver built without the runtime'), (e: Error & { stderr: string }) => e.stderr);
    expect(build).toContain('is not built (`npm rebuild nooks`; npm 12 and later run its build only once the project allows it: `npm install-scripts approve nooks` first)');
  }, 360_000);

  it('a missing make, C compiler or Python is named, with the Debian packages', async () => {
    // a PATH with node and nothing else
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await run('node', [join(project, 'node_modules', 'nooks', 'scripts', 'build.mjs'), '--check-tools'], {
      env: { ...env, PATH: bin, CC: '', CXX: '', PYTHON: '' },
    }).then(() => expect.fail('the tool check passed'), (e: Error & { stderr: string }) => e);
    expect(r.message).toMatch(/failed \(1\)/);
    expect(r.stderr).toContain('missing Python 3 (node-gyp runs gyp with it), make, a C compiler, a C++ compiler');
    expect(r.stderr).toContain('apt-get install python3 make gcc g++');
    expect(r.stderr).toContain('npm rebuild nooks');
  });
});

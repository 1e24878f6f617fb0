// `nooks new`, `nooks build` and `nooks sdk`, run as a user runs them (the
// built CLI, in a project directory of its own), and their errors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { includeDirs } from '../lib/sdk/flags.js';
import { nooks as run, shown } from './helpers/cli.js';
import type { Exit } from './helpers/util.js';

const project = mkdtempSync(join(tmpdir(), 'nooks-sdk-cli-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const nooks = (...args: string[]): Promise<Exit> => run(args, { cwd: project, timeoutMs: 60_000 });

describe('nooks new, build, sdk', () => {
  it('new writes the driver, its test, its workload and its bench module, and scripts into package.json', async () => {
    writeFileSync(join(project, 'package.json'), '{ "name": "p", "version": "1.0.0", "scripts": { "test": "true" } }\n');
    const r = await nooks('new', 'hello', '--json');
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'hello', class: 'plain', files: ['hello/hello.c', 'hello/hello.test.mjs', 'hello/workload.mjs', 'hello/bench.mjs'],
      scripts: {
        'build:hello': 'nooks build hello/hello.c -o build/hello.so', 'test:hello': 'npm run build:hello && node --test hello/hello.test.mjs',
        'bench:hello': 'npm run build:hello && nooks bench driver --driver build/hello.so --workload hello/bench.mjs --seconds 1 --runs 3',
      },
    });
    const c = readFileSync(join(project, 'hello', 'hello.c'), 'utf8');
    expect(c).toContain('NOOKS_EXPORT long add(long a, long b)');
    expect(c).not.toContain('@NAME@');
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg.scripts).toMatchObject({ test: 'true', 'build:hello': 'nooks build hello/hello.c -o build/hello.so' });
  });

  it('new in the nooks checkout itself: the scripts call its CLI by path (npm puts no `nooks` on their PATH there)', async () => {
    const checkout = join(project, 'checkout');
    mkdirSync(checkout);
    writeFileSync(join(checkout, 'package.json'), '{ "name": "nooks", "version": "0.1.0", "bin": { "nooks": "dist/lib/cli/main.js" } }\n');
    const r = await run(['new', 'hello', '--json'], { cwd: checkout, timeoutMs: 60_000 });
    expect(r.code, shown(r)).toBe(0);
    const { scripts } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['build:hello']).toBe('node dist/lib/cli/main.js build hello/hello.c -o build/hello.so');
    expect(scripts['bench:hello']).toBe('npm run build:hello && node dist/lib/cli/main.js bench driver --driver build/hello.so --workload hello/bench.mjs --seconds 1 --runs 3');
  });

  it('the test command new gives (script, next steps, the headers of the test and the driver, README) names the test file: Node 21 and later run `node --test <dir>` as a module', async () => {
    const r = await nooks('new', 'runner');
    expect(r.code, shown(r)).toBe(0);
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // its walk-throughs use `nooks new hello` and `nooks new --program mydrv` (whose test file is named as plain's)
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8').replaceAll('hello', 'runner').replaceAll('mydrv', 'runner');
    // every template's driver source, as new writes it for `runner` (the class's test file is runner/runner.test.mjs too)
    const sources = readdirSync(join(packageRoot, 'templates'), { recursive: true, encoding: 'utf8' }).filter((f) => /\/driver\.(c|cc)$/.test(f))
      .map((f) => readFileSync(join(packageRoot, 'templates', f), 'utf8').replaceAll('@NAME@', 'runner'));
    expect(sources).toHaveLength(12);
    for (const text of [pkg.scripts['test:runner'], r.stdout, readFileSync(join(project, 'runner', 'runner.test.mjs'), 'utf8'), readme, ...sources]) {
      const args = [...text.matchAll(/node --test ([^\s`]+)/g)].map((m) => m[1]);
      expect(args, text).not.toEqual([]);
      for (const a of args) expect(statSync(join(project, a)).isFile(), `node --test ${a}`).toBe(true);
    }
  });

  it('new refuses to overwrite, a name that is not a C identifier, an unknown class', async () => {
    let r = await nooks('new', 'hello');
    expect(r.code).toBe(1);
    for (const named of ['hello/hello.c', 'hello/hello.test.mjs', 'hello/workload.mjs', '[EEXIST]']) expect(r.stderr).toContain(named); // the files it kept
    r = await nooks('new', 'my-driver');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'my-driver'");
    r = await nooks('new', 'x', '--class', 'gpu');
    expect(r.code).toBe(1);
    for (const named of ['--class', '"gpu"', 'plain, block, net, serial, sound']) expect(r.stderr).toContain(named); // the flag, the value, the choices
    expect(existsSync(join(project, 'x'))).toBe(false);
  });

  it('new --program writes a program, its test and its workload (no bench module), built with --posix; not with --class', async () => {
    let r = await nooks('new', '--program', 'uiodrv', '--json');
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'uiodrv', program: true, files: ['uiodrv/uiodrv.c', 'uiodrv/uiodrv.test.mjs', 'uiodrv/workload.mjs'],
      scripts: { 'build:uiodrv': 'nooks build --posix uiodrv/uiodrv.c -o build/uiodrv.so', 'test:uiodrv': 'npm run build:uiodrv && node --test uiodrv/uiodrv.test.mjs' },
    });
    expect(readFileSync(join(project, 'uiodrv', 'uiodrv.c'), 'utf8')).toContain('int main(int argc, char **argv)');
    r = await nooks('new', '--program', 'uiodrv2');
    expect(r.stdout).toContain('npx nooks build --posix uiodrv2/uiodrv2.c -o build/uiodrv2.so');
    expect(r.stdout).toContain('npx nooks exec build/uiodrv2.so --device e1000 -- -t 500');
    r = await nooks('new', '--program', 'x', '--class', 'net');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--program or --class, not both');
    expect(existsSync(join(project, 'x'))).toBe(false);
    r = await nooks('new', '--program', 'uiodrv_cxx', '--lang', 'c++', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ program: true, files: ['uiodrv_cxx/uiodrv_cxx.cc', 'uiodrv_cxx/uiodrv_cxx.test.mjs', 'uiodrv_cxx/workload.mjs'] });
    // over a driver of that name: its bench script goes with it (a program is not called), the others are the program's
    expect((await nooks('new', 'was_driver')).code).toBe(0);
    r = await nooks('new', '--program', 'was_driver', '--force');
    expect(r.code, shown(r)).toBe(0);
    const { scripts } = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts).not.toHaveProperty('bench:was_driver');
    expect(scripts['build:was_driver']).toBe('nooks build --posix was_driver/was_driver.c -o build/was_driver.so');
  }, 60_000);

  // Before: the driver's files were written, then JSON.parse threw a message naming no file ("Expected double-quoted
  // property name in JSON at position 15"), leaving a driver without its scripts.
  it('new refuses a package.json it cannot add scripts to, naming it, and writes nothing', async () => {
    const broken = join(project, 'broken');
    mkdirSync(broken);
    for (const text of ['{ "name": "p", }\n', '[]\n']) {
      writeFileSync(join(broken, 'package.json'), text);
      const r = await run(['new', 'mydrv'], { cwd: broken, timeoutMs: 60_000 });
      expect(r.code, shown(r)).toBe(1);
      expect(r.stderr).toContain(`${join(broken, 'package.json')}: not ${text.startsWith('[') ? 'a JSON object' : 'valid JSON ('}`);
      expect(r.stderr).toContain('[EINVAL]');
      expect(existsSync(join(broken, 'mydrv')), 'a driver half made').toBe(false);
    }
  });

  it('build compiles and links with the built-in drivers\' flags; the result loads and runs', async () => {
    const r = await nooks('build', 'hello/hello.c', '-o', 'out/hello.so', '--json');
    expect(r.code, shown(r)).toBe(0);
    const built = JSON.parse(r.stdout);
    expect(built.path).toBe(join(project, 'out', 'hello.so'));
    expect(built.kapiVersion).toMatch(/^kapi-[0-9a-f]{12}$/);
    expect(built.warnings).toBe('');
    const run = await nooks('run', './out/hello.so', 'add', '40', '2', '--json');
    expect(run.code, shown(run)).toBe(0);
    expect(JSON.parse(run.stdout).result).toBe(42);
  });

  it('build: several sources, -I, -D (joined or apart), the default output name', async () => {
    mkdirSync(join(project, 'multi', 'inc'), { recursive: true });
    writeFileSync(join(project, 'multi', 'inc', 'answer.h'), 'long answer(void);\n');
    writeFileSync(join(project, 'multi', 'answer.c'), '#include <nooks/kapi.h>\n#include "answer.h"\nlong answer(void) { return ANSWER + BONUS; }\n');
    writeFileSync(join(project, 'multi', 'main.c'),
      '#include <nooks/kapi.h>\n#include "answer.h"\nNOOKS_EXPORT long get(void) { return answer(); }\nstatic int i(void) { return 0; }\nmodule_init(i);\n');
    const r = await nooks('build', 'multi/main.c', 'multi/answer.c', '-I', 'multi/inc', '-DANSWER=40', '-D', 'BONUS=2');
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^built main\.so \(kernel API kapi-/);
    const run = await nooks('run', './main.so', 'get', '--json');
    expect(JSON.parse(run.stdout).result).toBe(42);
    // -o a folder: the default name in it (before: ld's 'Is a directory')
    const inFolder = await nooks('build', 'multi/main.c', 'multi/answer.c', '-I', 'multi/inc', '-DANSWER=40', '-D', 'BONUS=2', '-o', 'multi/');
    expect(inFolder.code, shown(inFolder)).toBe(0);
    expect(JSON.parse((await nooks('run', './multi/main.so', 'get', '--json')).stdout).result).toBe(42);
  });

  it('build: a compiler error is EBUILD with the compiler\'s message; a missing source, an unknown option', async () => {
    writeFileSync(join(project, 'broken.c'), '#include <nooks/kapi.h>\nNOOKS_EXPORT long f(void) { return undeclared; }\n');
    let r = await nooks('build', 'broken.c');
    expect(r.code).toBe(1);
    for (const named of ['broken.c', '[EBUILD]']) expect(r.stderr).toContain(named);
    expect(r.stderr).toMatch(/broken\.c:2:\d+: error: .undeclared. undeclared/); // the compiler's own message, passed on
    r = await nooks('build', 'nope.c');
    for (const named of ['nope.c', '[ENOENT]']) expect(r.stderr).toContain(named);
    r = await nooks('build', 'broken.c', '-O2');
    expect(r.stderr).toContain('build: unknown option -O2');
    r = await nooks('build', '-o');
    expect(r.stderr).toContain('-o needs a value');
    r = await nooks('build', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: nooks build');
  });

  it('build and sdk parse their own options: their --help lists each one they take, and they take each one it lists', async () => {
    for (const command of ['build', 'sdk']) {
      const help = (await nooks(command, '--help')).stdout;
      const listed = /\nOptions:\n([^]*?)\n\n/.exec(help)![1].split('\n').flatMap((l) => /^ {2}((?:-\w, )?-{1,2}[\w-]+)/.exec(l)![1].split(', ')); // -h, --help: both
      // every option the help names anywhere (its synopsis, details, examples), tried alone: without sources
      // build stops before compiling; an option the command does not take is "unknown option"
      const named = new Set([...help.matchAll(/(?<![\w$-])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1]));
      for (const option of named) {
        const r = await nooks(command, option);
        const takes = !r.stderr.includes(`${command}: unknown option ${option}`);
        expect(listed.includes(option), `${command} ${option}: ${shown(r)}`).toBe(takes);
      }
      for (const option of listed) expect(named, command).toContain(option);
    }
  }, 120_000); // a CLI process per option, one after another: about 9 s on a loaded 2-core machine, past 30 s at a load of 8

  it('build --posix (and sdk --posix-cflags/--posix-ldflags): a driver written against libc loads and runs; without, ELIBC', async () => {
    writeFileSync(join(project, 'libc.c'), '#include <stdlib.h>\n#include <string.h>\n' +
      'long twice(long x) { char *s = malloc(32); strcpy(s, "ok"); long r = 2 * x + (long)strlen(s) - 2; free(s); return r; }\n');
    let r = await nooks('build', '--posix', 'libc.c', '-o', 'out/libc.so');
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse((await nooks('run', './out/libc.so', 'twice', '21', '--json')).stdout).result).toBe(42);
    const flags = await nooks('sdk', '--posix-cflags', '--posix-ldflags');
    const [cflags, ldflags] = flags.stdout.trim().split('\n');
    expect(ldflags).toContain(join(packageRoot, 'build', 'Release', 'posix_rt.a'));
    execFileSync('sh', ['-c', `cc ${cflags} libc.c -o libc-byhand.so ${ldflags}`], { cwd: project });
    expect(JSON.parse((await nooks('run', './libc-byhand.so', 'twice', '1', '--json')).stdout).result).toBe(2);
    // without --posix the loader would refuse it: the build says so, and leaves no driver to load
    r = await nooks('build', 'libc.c', '-o', 'out/plain.so');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the build made a driver nooks would refuse to load (removed): ${join(project, 'out', 'plain.so')}: `);
    for (const named of ['malloc', 'nooks build --posix', '[ELIBC]']) expect(r.stderr).toContain(named); // the function, the fix, the code
    expect(existsSync(join(project, 'out', 'plain.so'))).toBe(false);
    // and so with --posix for what the personality lacks
    writeFileSync(join(project, 'sock.c'), '#include <sys/socket.h>\nint s(void) { return socket(AF_INET, SOCK_DGRAM, 0); }\n');
    r = await nooks('build', '--posix', 'sock.c');
    expect(r.code).toBe(1);
    for (const named of ['(socket)', '[ELIBC]']) expect(r.stderr).toContain(named);
  });

  // Before, any failure of the check was taken for a refusal: 'the build made a driver nooks would refuse to load (removed)'
  it('build with the addon failing to load: says so, and keeps the driver it built (only the loader\'s refusal removes it)', async () => {
    writeFileSync(join(project, 'kept.c'), '#include <nooks/kapi.h>\nstatic int start(void) { return 0; }\nmodule_init(start);\n');
    const noAddon = join(project, 'no-addon.cjs'); // requiring nooks.node throws, as where it was never built
    writeFileSync(noAddon, "const ext = require('node:module')._extensions, load = ext['.node'];\n" +
      "ext['.node'] = (m, file) => { if (file.endsWith('/nooks.node')) throw new Error('no addon in this test'); return load(m, file); };\n");
    const r = await run(['build', 'kept.c', '-o', 'out/kept.so'], { cwd: project, timeoutMs: 60_000, env: { ...process.env, NODE_OPTIONS: `--require ${noAddon}` } });
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain('cannot load the nooks addon');
    expect(r.stderr).not.toContain('refuse');
    expect(existsSync(join(project, 'out', 'kept.so'))).toBe(true);
  });

  it('build: a driver the loader would refuse for several reasons is refused once, naming each with its code, the most fundamental first', async () => {
    // a __thread variable it does not define: never the driver's (its own are served, test/posix-tls.test.ts)
    writeFileSync(join(project, 'sock-tls.c'), '#include <sys/socket.h>\nextern __thread int opened;\n' +
      'int s(void) { opened++; return socket(AF_INET, SOCK_DGRAM, 0); }\nint nooks_module_init(void) { return 0; }\n');
    const r = await nooks('build', '--posix', 'sock-tls.c');
    expect(r.code).toBe(1);
    // before: the thread-local storage alone (ETLS); mended, the socket call (ELIBC) came next
    const reasons = r.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(r.stderr).toContain(`${join(project, 'sock-tls.so')}: refused for 2 reasons:\n`);
    expect(reasons).toEqual([expect.stringMatching(/^ {2}the driver calls functions .*\(socket\).* \[ELIBC\]$/), expect.stringMatching(/^ {2}the driver has thread-local storage .* \[ETLS\]$/)]);
    expect(r.stderr).not.toContain('__tls_get_addr'); // its accessor is the thread-local storage ETLS names, not another libc call
  });

  it('sdk prints the flags make or CMake need; they build the same driver', async () => {
    const r = await nooks('sdk', '--cflags', '--ldflags');
    expect(r.code, shown(r)).toBe(0);
    const [cflags, ldflags] = r.stdout.trim().split('\n');
    expect(cflags).toContain('-ffreestanding');
    expect(cflags).toContain(`-I${join(packageRoot, 'native', 'include')}`);
    expect(ldflags).toContain(join(packageRoot, 'build', 'Release', 'driver_rt.a'));
    execFileSync('sh', ['-c', `cc ${cflags} hello/hello.c -o byhand.so ${ldflags}`], { cwd: project });
    const run = await nooks('run', './byhand.so', 'add', '1', '2', '--json');
    expect(JSON.parse(run.stdout).result).toBe(3);
    const dirs = await nooks('sdk', '--include-dir');
    expect(dirs.stdout.trim()).toBe(`${join(packageRoot, 'native', 'include')} ${join(packageRoot, 'gen')}`);
    expect((await nooks('sdk', '--bogus')).stderr).toContain('sdk: unknown option --bogus');
  });

  // Before: they named the link scripts by absolute path, which gyp split at a space: `npm install` in a project under
  // `~/my project` failed linking the first driver ("ld: cannot open linker script file /home/u/my: No such file").
  it('the link flags binding.gyp reads hold no path of the package (gyp splits them at spaces); make links with them in build/', async () => {
    const gyp = (list: string) => execFileSync(process.execPath, [join(packageRoot, 'dist', 'lib', 'sdk', 'flags.js'), list], { encoding: 'utf8' }).trim().split(' ');
    for (const list of ['cflags', 'link', 'posix-cflags', 'cxx-cflags', 'posix-link']) expect(gyp(list).filter((f) => f.includes(packageRoot)), list).toEqual([]);
    const build = join(packageRoot, 'build');
    const object = join(project, 'gyp-link.o');
    execFileSync('cc', [...gyp('cflags'), ...includeDirs.map((d) => `-I${d}`), '-c', join(project, 'hello', 'hello.c'), '-o', object]);
    execFileSync('cc', ['-shared', '-o', join(project, 'gyp-link.so'), object, ...gyp('link'), join('Release', 'driver_rt.a')], { cwd: build });
    const run = await nooks('run', './gyp-link.so', 'add', '2', '2', '--json');
    expect(JSON.parse(run.stdout).result).toBe(4);
  });
});

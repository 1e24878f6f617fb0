// Bad input from users and programs: each gets a clear error that names the
// path or the value, never a hang, a silent wrap or a library's internals.
// What could hang (paths under /proc, a FIFO as a driver) runs in a child
// process with a deadline, so that the old behaviour fails the test instead
// of hanging it. The CLI runs from dist/: `npx tsc -p .` after changes to lib/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchXpc, type XpcBenchOptions } from '../lib/bench/xpc.js';
import { makeDirs } from '../lib/dirs.js';
import { Kernel, type LogLine } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { cli, nooks as run, shown } from './helpers/cli.js';
import { runNode, type Exit } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nooks = (args: string[]): Promise<Exit> => run(args, { timeoutMs: 15_000 });
/** Each command fails (exit 1) with its message on stderr. */
async function refusedWith(cases: [args: string[], message: string][]): Promise<void> {
  for (const [args, message] of cases) {
    const r = await nooks(args);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr, args.join(' ')).toContain(message);
  }
}
/** Runs ES module code in a child node from the package root. */
const script = (code: string): Promise<Exit> => runNode(['--input-type=module', '-e', code], packageRoot, 15_000);

describe('paths that cannot be made: an error naming them, no hang', () => {
  it('makeDirs makes the parents, and under /proc fails once', () => {
    makeDirs(join(dir, 'a', 'b', 'c'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    makeDirs(join(dir, 'a', 'b')); // there already
    writeFileSync(join(dir, 'file'), '');
    expect(() => makeDirs(join(dir, 'file'))).toThrow(expect.objectContaining({ code: 'EEXIST', message: expect.stringContaining(join(dir, 'file')) }));
    expect(() => makeDirs('/proc/nooks-x/y')).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('/proc/nooks-x') }));
  });

  it('nooks report --out /proc/x exits 1 naming the path', async () => {
    const r = await nooks(['report', '--out', '/proc/x', '--quick']);
    expect(r.code, shown(r)).toBe(1);
    expect(r.stderr).toContain("'/proc/x'");
  });

  it("Kernel.boot({ eventLog: '/proc/a/b.jsonl' }) boots, warning that the log cannot be written", async () => {
    const r = await script(`
      import { Kernel } from './dist/lib/index.js';
      const k = await Kernel.boot({ isolation: 'mprotect', eventLog: '/proc/a/b.jsonl' });
      await k.shutdown();
      console.log('booted');`);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe('booted\n');
    expect(r.stderr).toContain('/proc/a/b.jsonl'); // a warning naming the file
  });
});

describe('the command line', () => {
  it('a negative number given to a numeric flag is refused as invalid, by name', async () => {
    const cases: [string[], string][] = [
      [['campaign', '--trials', '-1'], '--trials must be a positive integer, got "-1"'],
      [['campaign', '--jobs', '-2'], '--jobs must be a positive integer, got "-2"'],
      [['bench', 'xpc', '--runs', '-3'], '--runs must be a positive integer, got "-3"'],
      [['bench', 'xpc', '--iters', '-1'], '--iters must be a positive integer, got "-1"'],
      [['bench', 'block', '--seconds', '-.5'], '--seconds must be a positive number, got "-.5"'],
      [['bench', 'block', '--runs', '0'], '--runs must be a positive integer, got "0"'],
      [['inject', 'blk', '--seed', '-5'], '--seed must be a non-negative integer, got "-5"'],
      [['recover', 'crashy', '--times', '-1'], '--times must be a positive integer, got "-1"'],
      [['run', 'crashy', 'add', '1', '2', '--time-budget', '-1'], '--time-budget must be a positive integer, got "-1"'],
    ];
    await refusedWith(cases);
  });

  it('bench scale checks --runs as the class benches do, and names the flags it takes', async () => {
    const cases: [string[], string][] = [
      [['bench', 'scale', '--runs', '0'], '--runs must be a positive integer, got "0"'],
      [['bench', 'scale', '--iters', '5'], '--iters is an option of bench xpc; bench scale takes --seconds and --runs'],
    ];
    await refusedWith(cases);
  });

  it('a bench length past what it can count is refused with its bound, not measured as nonsense', async () => {
    const cases: [string[], string][] = [
      // 2^31 ms: Node's timer fires after 1 ms; 2^32 iterations: the C++ loops' int wraps to 0
      [['bench', 'block', '--seconds', '2147484'], '--seconds must be at most 2147483 (about 24 days: Node\'s longest timer), got "2147484"'],
      [['bench', 'scale', '--seconds', '3000000'], '--seconds must be at most 2147483'],
      [['bench', 'xpc', '--iters', '4294967296'], '--iters must be at most 2147483647, got "4294967296"'],
      [['bench', 'xpc', '--runs', '2147483648'], '--runs must be at most 2147483647, got "2147483648"'],
    ];
    await refusedWith(cases);
  });

  // Before, the library took them: its runs and iters went to Int32Value, 2^31 iterations ran as -2^31 (no loop at all)
  it('benchXpc, as a library, refuses runs and iters past the C++ loops\' int with the bound the CLI gives', async () => {
    const cases: [XpcBenchOptions, string][] = [
      [{ iters: 2 ** 31 }, 'iters must be an integer 1..2147483647, got 2147483648'],
      [{ runs: 2 ** 32 }, 'runs must be an integer 1..2147483647, got 4294967296'],
      [{ iters: 0 }, 'iters must be an integer 1..2147483647, got 0'],
    ];
    // no mode: nothing is measured, only the options checked
    for (const [options, message] of cases) await expect(benchXpc({ ...options, modes: [] })).rejects.toThrow(new RangeError(message));
  });

  it("an application's negative number, or a disk size that is no whole number of sectors, is a usage mistake (exit 2)", async () => {
    const cases: [string[], string][] = [
      [['db', '--image', join(dir, 'unused.img'), '--rounds', '-1'], '--rounds must be a non-negative number, got "-1"'],
      [['db', '--image', join(dir, 'unused.img'), '--size', '1000'], '--size must be a positive multiple of 512 bytes, got "1000"'],
      [['player', '--out', join(dir, 'unused.wav'), '--seconds', '-1'], '--seconds must be a non-negative number, got "-1"'],
    ];
    for (const [args, message] of cases) {
      const r = await nooks(['app', ...args]);
      expect(r.code, shown(r)).toBe(2);
      expect(JSON.parse(r.stdout).error).toEqual({ code: 'EINVAL', message });
    }
  });

  it('run: a call argument that is no 64-bit integer is refused, naming which argument of which function', async () => {
    const big = await nooks(['run', 'crashy', 'add', '1', '99999999999999999999']);
    expect(big.code, shown(big)).toBe(1);
    expect(big.stderr).toContain('argument 2 of crashy.add is "99999999999999999999", which does not fit in 64 bits: a driver call argument is one 64-bit register');
    const word = await nooks(['run', 'crashy', 'add', 'two', '3']);
    expect(word.code, shown(word)).toBe(1);
    expect(word.stderr).toContain('argument 1 of crashy.add is "two": driver call arguments are integers');
    // a driver given by its path is named as it loads: crashy, not build/drivers/crashy.so
    const byPath = await nooks(['run', join(packageRoot, 'build', 'drivers', 'crashy.so'), 'add', 'two', '3']);
    expect(byPath.code, shown(byPath)).toBe(1);
    expect(byPath.stderr).toContain('argument 1 of crashy.add is "two": driver call arguments are integers');
  });

  it('campaign --out <a directory> names it', async () => {
    const r = await nooks(['campaign', '--out', dir, '--trials', '1']);
    expect(r.code, shown(r)).toBe(1);
    for (const named of [dir, '[EISDIR]']) expect(r.stderr).toContain(named);
  });
});

describe('app db: its own image only, one user at a time', () => {
  const db = (image: string, ...more: string[]) => nooks(['app', 'db', '--image', image, '--size', '65536', '--rounds', '2', '--writes', '8', ...more]);
  const outcome = (r: Exit) => JSON.parse(r.stdout) as { ok: boolean; error?: { code: string; message: string } };

  it('refuses a file that is not its image, leaving it as it was; --force overrides', async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'not a disk\n');
    const r = await db(notes);
    expect(r.code, shown(r)).toBe(1);
    expect(outcome(r).error).toEqual({ code: 'ENOTIMAGE', message: expect.stringContaining(`${notes} is not a db image`) });
    expect(readFileSync(notes, 'utf8')).toBe('not a disk\n');
    const forced = await db(notes, '--force');
    expect(forced.code, shown(forced)).toBe(0);
    expect(outcome(forced).ok).toBe(true);
    const again = await db(notes); // now it is one
    expect(again.code, shown(again)).toBe(0);
  });

  it('a directory as the image: EISDIR naming it', async () => {
    const r = await db(dir);
    expect(outcome(r).error).toEqual({ code: 'EISDIR', message: `${dir} is a directory, not a db image` });
  });

  it('an image in use by another blk device: EBUSY, "in use", the image untouched', async () => {
    const image = join(dir, 'shared.img');
    expect((await db(image)).code).toBe(0);
    const before = readFileSync(image);
    const holder = await script(`
      import { execFileSync } from 'node:child_process';
      import { Kernel } from './dist/lib/index.js';
      const k = await Kernel.boot({ isolation: 'mprotect' });
      k.addDevice('blk', { image: ${JSON.stringify(image)} });
      let second;
      try { k.addDevice('blk', { image: ${JSON.stringify(image)} }); } catch (e) { second = { code: e.code, message: e.message }; }
      let other;
      try {
        execFileSync(process.execPath, [${JSON.stringify(cli)}, 'app', 'db', '--image', ${JSON.stringify(image)}, '--size', '65536'], { stdio: 'pipe' });
      } catch (e) { other = JSON.parse(e.stdout); }
      await k.shutdown();
      console.log(JSON.stringify({ second, other }));`);
    expect(holder.code, shown(holder)).toBe(0);
    const { second, other } = JSON.parse(holder.stdout);
    const inUse = { code: 'EBUSY', message: expect.stringMatching(new RegExp(`image '${image}' is in use`)) };
    expect(second).toEqual(inUse);
    expect(other).toMatchObject({ ok: false, error: inUse });
    expect(readFileSync(image).equals(before)).toBe(true);
    expect((await db(image)).code).toBe(0); // the lock went with the kernel
  });
});

describe('a FIFO as a driver is refused, not waited on', () => {
  it('ENOTELF, naming it', async () => {
    const fifo = join(dir, 'fifo.so');
    execFileSync('mkfifo', [fifo]);
    const r = await script(`
      import { Kernel } from './dist/lib/index.js';
      const k = await Kernel.boot({ isolation: 'mprotect' });
      try { await k.load(${JSON.stringify(fifo)}); } catch (e) { console.log(e.code, e.message); }
      await k.shutdown();`);
    expect(r.stdout).toBe(`ENOTELF ${fifo}: not a regular file, so not a driver\n`);
  });
});

for (const isolation of ['mprotect', 'process'] as const) {
  describe(`isolation ${isolation}`, () => {
    let kernel: Kernel;
    let exitFault: string;
    const log: LogLine[] = [];

    beforeAll(async () => {
      // a policy written like the file: drivers as a mapping, entries partial
      kernel = await Kernel.boot({ isolation, policy: { default: { timeBudgetMs: 1000 }, drivers: { crashy: { action: 'disable' } } } });
      kernel.on('log', (l) => log.push(l));
      mkdirSync(join(dir, isolation));
      exitFault = buildDriver(join(dir, isolation), 'exitfault', [
        '#include <nooks/kapi.h>',
        'static int ok_init(void) { return 0; }',
        'static void bad_exit(void) { int *volatile p = NULL; *(volatile int *)p = 1; }',
        'module_init(ok_init);',
        'module_exit(bad_exit);',
        'NOOKS_EXPORT long same(long x) { return x; }',
      ].join('\n'));
    }, 60_000);
    afterAll(async () => {
      await kernel?.shutdown();
    });

    it('resolves a policy in code written like the file, over the defaults', async () => {
      expect(kernel.policy.default).toMatchObject({ action: 'restart', timeBudgetMs: 1000, maxFailures: 5 });
      expect(kernel.policy.drivers.get('crashy')).toMatchObject({ action: 'disable', timeBudgetMs: 1000 });
      const crashy = await kernel.load('crashy');
      expect(() => crashy.call('null_deref')).toThrow();
      expect(crashy.state).toBe('disabled'); // its entry applied
      crashy.unload();
    });

    it('driver call arguments outside 64 bits are refused, naming the argument, its function and the value; fractions are not integers', async () => {
      const crashy = await kernel.load('crashy', { name: 'args' });
      try {
        const refused = (...args: (number | bigint)[]) => {
          try {
            crashy.call('add', ...args);
          } catch (e) {
            return `${(e as { code: string }).code} ${(e as Error).message}`;
          }
          return 'accepted';
        };
        expect(refused(2n ** 64n, 0)).toBe('ERANGE argument 1 of args.add (18446744073709551616n) is out of range: a driver\'s registers are 64-bit (-2^63 .. 2^64-1)');
        expect(refused(-(2n ** 63n) - 1n, 0)).toMatch(/^ERANGE argument 1 of args.add \(-9223372036854775809n\) is out of range/);
        expect(refused(1e300, 0)).toMatch(/^ERANGE argument 1 of args.add \(1e\+300\) is out of range/);
        expect(refused(0, -Infinity)).toMatch(/^ERANGE argument 2 of args.add \(-Infinity\) is out of range/);
        expect(refused(1.5, 0)).toBe('EINVAL argument 1 of args.add (1.5) is not an integer');
        expect(refused(NaN, 0)).toBe('EINVAL argument 1 of args.add (NaN) is not an integer');
        expect(() => crashy.batch([['add', 1, 2], ['add', 2n ** 64n, 0]])).toThrow(/^argument 1 of args.add in deferred call 1 \(18446744073709551616n\) is out of range/);
        expect(() => crashy.read(2n ** 64n, 1)).toThrow(/^the address \(18446744073709551616n\) is out of range/);
        // the edges of the range pass, unsigned or signed
        expect(crashy.call('add', 2n ** 64n - 1n, 1)).toBe(0);
        expect(crashy.call('add', -(2n ** 63n), 0)).toBe(-(2n ** 63n));
        expect(crashy.call('add', 2 ** 63, 0)).toBe(-(2n ** 63n));
      } finally {
        crashy.unload();
      }
    });

    it('a string, a buffer or a seventh argument in a driver call: refused, naming the function and how to pass it', async () => {
      const crashy = await kernel.load('crashy', { name: 'args' });
      try {
        const refused = (call: () => unknown) => {
          try {
            call();
          } catch (e) {
            return `${(e as { code: string }).code} ${(e as Error).message}`;
          }
          return 'accepted';
        };
        // the types say number | bigint | boolean; JavaScript callers pass anything
        const call = crashy.call.bind(crashy) as (fn: string, ...args: unknown[]) => number | bigint;
        const batch = crashy.batch.bind(crashy) as (calls: unknown[][]) => unknown;
        expect(refused(() => call('add', 'hi', 0))).toBe('EINVAL argument 1 of args.add is a string: a driver reads a string at an address in its memory; pass driver.cstring(text), a NUL-terminated copy there');
        expect(refused(() => call('add', 0, Buffer.from('hi')))).toMatch(/^EINVAL argument 2 of args.add is a buffer: .*pass driver.alloc\(size\), after driver.write\(address, bytes\)$/);
        expect(refused(() => call('add', 1, 2, 3, 4, 5, 6, 7))).toBe('EINVAL args.add was given 7 arguments: a driver function takes at most six (pass more in a struct in driver memory: driver.alloc and driver.write)');
        expect(refused(() => batch([['add', 1, 2], ['add', 1, 2, 3, 4, 5, 6, 7]]))).toMatch(/^EINVAL args.add in deferred call 1 was given 7 arguments: a driver function takes at most six/);
        expect(refused(() => batch([['add', 'hi', 2]]))).toMatch(/^EINVAL argument 1 of args.add in deferred call 0 is a string: .*driver.cstring\(text\)/);
        expect(call('add', crashy.cstring('hi'), 0)).toBeGreaterThan(0); // what the message says works
      } finally {
        crashy.unload();
      }
    });

    it('a directory as a driver: EISDIR, naming it', async () => {
      await expect(kernel.load(dir)).rejects.toMatchObject({ code: 'EISDIR', message: `${dir}: is a directory, not a driver file` });
    });

    it('a module_exit that faults is contained and reported at unload, naming the driver and the fault', async () => {
      const drv = await kernel.load(exitFault);
      expect(drv.call('same', 7)).toBe(7);
      log.length = 0;
      drv.unload();
      await new Promise((r) => setImmediate(r)); // 'log' listeners hear a line once the JavaScript thread is free
      expect(log).toEqual([{
        level: 3, source: 'exitfault',
        text: expect.stringMatching(/^module_exit faulted: segmentation fault at address 0x0 in exitfault\.so:nooks_module_exit\+0x[0-9a-f]+; unloaded anyway$/),
        event: { kind: 'exit-faulted', driver: 'exitfault', fault: 'segv' }, // for programs: the fault's kind
      }]);
      expect(kernel.domains()).toEqual([]);
      const again = await kernel.load(exitFault, { name: 'again' }); // nothing of it stayed loaded
      expect(again.call('same', 8)).toBe(8);
      again.unload();
    });
  });
}

// `nooks exec`: a program driver (test/fixtures/drivers/program.c) run from
// the command line as a user would, in a child process: its output as it
// comes, SIGINT passed on to its handler (poll ends with EINTR: its timer
// ticks every 100 s), its exit status as nooks's; SIGTERM left to SIG_DFL
// kills it: 143. By progress: the signal is sent once its banner is out.
// --device gives it a device (its UIO node), again another, in order; nooks's own lines about a
// failure come after the program's lines logged before it; --time-budget is
// its watchdog. A signal that finds the program failed (between two runs)
// stops it, as a second one does.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signalsTo } from '../lib/cli/commands/exec.js';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { cli, nooksSignalled } from './helpers/cli.js';
import { kernelPerBlock } from './helpers/kernel.js';

const path = fixtureDriver('program', { posix: true });

/** Runs `nooks exec` on the program, sends `signals` once its banner is out: its exit and output. */
const execUntilBanner = (args: string[], ...signals: NodeJS.Signals[]) => nooksSignalled(['exec', path, ...args], packageRoot, ': started,', ...signals);

/** Runs `nooks exec` to its end: its exit and output. */
function execToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'exec', ...args], { cwd: packageRoot });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('nooks exec', () => {
  it('runs main with the arguments after --; Ctrl-C runs its handler; exits with its status', async () => {
    const r = await execUntilBanner(['--isolation', 'mprotect', '--', '-i', '100000', 'eth0'], 'SIGINT');
    expect(r.stdout.split('\n')).toEqual([
      'program: started, argc 4, interval 100000 ms, limit -1, status 0, crash -1, operands: eth0',
      'program: poll interrupted', 'program: loop ended', 'program: 0 ticks, bye', '',
    ]);
    expect(r.code).toBe(0);
  });

  it('a program SIGTERM kills (SIG_DFL) exits 143, without its atexit output', async () => {
    const r = await execUntilBanner(['--isolation', 'process', '--', '-i', '100000', '-d'], 'SIGTERM');
    expect(r.code).toBe(143);
    expect(r.stdout).not.toContain('bye');
  });

  it('a second signal stops a program that goes on: it exits as killed by it, 128+n', async () => {
    const r = await execUntilBanner(['--isolation', 'mprotect', '--', '-i', '100000', '-I'], 'SIGTERM', 'SIGTERM'); // -I: SIGTERM ignored
    expect(r.stderr).toContain('nooks: program: stopped');
    expect(r.code).toBe(143);
  });

  it('refuses a driver that is no program', async () => {
    const r = await execToEnd(['crashy', '--isolation', 'mprotect']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('crashy is no program (it defines no main, or is not built with --posix)');
  });

  // Before: under none the exit ended the process before the JavaScript side printed its last lines: nothing, and no 'bye'.
  it('under none, where its exit ends the process, its last lines still come out', async () => {
    const quick = await execToEnd([path, '--isolation', 'none', '--', '-q']);
    expect(quick.stdout).toBe('program: quick\n');
    expect(quick.code).toBe(0);
    const ticks = await execToEnd([path, '--isolation', 'none', '--', '-i', '1', '-n', '3', '-x', '4']);
    expect(ticks.stdout.split('\n').slice(-2)).toEqual(['program: 3 ticks, bye', '']);
    expect(ticks.code).toBe(4);
  });

  // Before: a usage error was restarted as a crash: the usage printed 5 times before the policy gave up.
  it('a usage error (status 2 or 64) ends it at once; the policy file names others; status 1 is restarted', async () => {
    const usage = await execToEnd([path, '--isolation', 'mprotect', '--', '-x']); // -x lacks its argument
    expect(usage.stderr.split('\n').filter((l) => l.startsWith('usage:') || l.startsWith('nooks:'))).toEqual([expect.stringMatching(/^usage: program /)]);
    expect(usage.code).toBe(2);
    const failing = await execToEnd([path, '--isolation', 'mprotect', '--', '-n', '1', '-x', '1']);
    expect(failing.stdout.match(/bye/g)).toHaveLength(5);
    expect(failing.code).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'nooks-exec-policy-'));
    try {
      const policy = join(dir, 'policy.yaml');
      writeFileSync(policy, 'drivers:\n  program: { preventRestartExitStatus: [1] }\n');
      const once = await execToEnd([path, '--isolation', 'mprotect', '--policy', policy, '--', '-n', '1', '-x', '1']);
      expect(once.stdout.match(/bye/g)).toHaveLength(1);
      expect(once.code).toBe(1);
      writeFileSync(policy, 'default: { preventRestartExitStatus: [] }\n');
      const restarted = await execToEnd([path, '--isolation', 'mprotect', '--policy', policy, '--', '-x']);
      expect(restarted.stderr.match(/^usage:/gm)).toHaveLength(5);
      expect(restarted.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--device gives the program a device: it finds its UIO node as UIO drivers do', async () => {
    const r = await execToEnd([path, '--isolation', 'mprotect', '--device', 'e1000', '--', '-u', '-n', '1']);
    expect(r.stderr).toBe('nooks: program: e1000 at 0000:00:02.0, /dev/uio0\nmain: exit(0)\n');
    expect(r.stdout).toMatch(/^program: opened \/dev\/uio0 of 0000:00:02.0$/m);
    expect(r.code).toBe(0);
    const none = await execToEnd([path, '--device', '0000:7f:1f.7']); // a real device's address
    expect(none.stderr).toContain('no PCI device 0000:7f:1f.7');
    expect(none.code).toBe(1);
    const options = await execToEnd([path, '--device', 'e1000,peer=127.0.0.1:9,link=sideways']); // the model's options, as QEMU's
    expect(options.stderr).toContain("e1000: link must be 'up' or 'down'");
    expect(options.code).toBe(1);
  });

  // Before: an address with options went to the emulator as a kind ("unknown device kind '0000:03:00.0'"), an option
  // without = said "expected kind,name=value,..., got "image""; neither said that an address takes none.
  it('--device in another form is refused, the message naming the forms it takes', async () => {
    const forms = '--device takes an emulated device\'s kind (e1000), its options after it as QEMU writes them (blk,image=disk.img), '
      + 'or a real device\'s PCI address alone (0000:03:00.0)';
    for (const [device, why] of [['0000:03:00.0,via=vfio', 'a real device\'s PCI address takes no options'], ['blk,image', '"image" is no name=value option']]) {
      const r = await execToEnd([path, '--device', device]);
      expect(r.stderr.split('\n')[0]).toBe(`nooks: --device ${device}: ${why}; ${forms}`);
      expect(r.code).toBe(1);
    }
  });

  // Before: "--device <device>   exec: a device the program gets: ...", the command's own name as a prefix.
  it('--help says what --device gives, as the other options read', async () => {
    const r = await execToEnd(['--help']);
    expect(r.stdout).toMatch(/^ {2}--device <device> +A device the program gets: an emulated one of that kind /m);
    expect(r.stdout).not.toMatch(/^ {2}-.* {2}exec: /m);
  });

  // Before: a repeated --device kept the last: the program had one device, the testdev ("testdev at 0000:00:02.0, /dev/uio0").
  it('--device again gives it another: each attached in the order given, the program finds them in that order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-exec-devices-'));
    try {
      const r = await execToEnd([path, '--isolation', 'mprotect', '--device', 'e1000', '--device', `blk,image=${join(dir, 'disk.img')},size=65536`,
        '--device', 'testdev', '--', '-u', '-n', '1']);
      expect(r.stderr.split('\n')).toEqual([
        'nooks: program: e1000 at 0000:00:02.0, /dev/uio0', 'nooks: program: blk at 0000:00:03.0, /dev/uio1',
        'nooks: program: testdev at 0000:00:04.0, /dev/uio2', 'main: exit(0)', '',
      ]);
      expect(r.stdout.split('\n').filter((l) => l.includes(' opened '))).toEqual([
        'program: opened /dev/uio0 of 0000:00:02.0', 'program: opened /dev/uio1 of 0000:00:03.0', 'program: opened /dev/uio2 of 0000:00:04.0',
      ]);
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--time-budget is its watchdog: a main that polls without waiting for longer fails (timeout)', async () => {
    const spin = ['--isolation', 'mprotect', '--', '-S', '500', '-n', '1']; // 500 ms of reading the clock, then a tick
    const within = await execToEnd([path, ...spin]); // the policy's 2000 ms
    expect(within.stdout).toContain('program: spun 500 ms');
    expect(within.code).toBe(0);
    const past = await execToEnd([path, '--time-budget', '100', ...spin]);
    expect(past.stderr.split('\n').filter((l) => l.startsWith('nooks: program failed')))
      .toEqual(Array(5).fill('nooks: program failed: driver exceeded its time budget (watchdog)'));
    expect(past.stdout).not.toContain('spun');
    expect(past.code).toBe(1);
  });

  it('prints its line about a failure after what the program logged before it, run after run', async () => {
    const r = await execToEnd([path, '--isolation', 'mprotect', '--', '-c', '1']);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('main:') || l.startsWith('nooks:'));
    const run = ['main: the driver failed on this thread (segv)', expect.stringMatching(/^nooks: program failed: segmentation fault /)];
    expect(lines).toEqual([
      ...[1, 2, 3, 4].flatMap(() => [...run, 'nooks: program restarting (main runs again)']),
      ...run, 'nooks: program disabled by the policy: not restarted again',
    ]);
    expect(r.code).toBe(1);
  });

  // Before: a run's lines taken after nooks's line about its failure was queued came out before it, and main's first
  // lines after a restart before the line saying it restarts (under process, 1 run in 4: SBESFR, SBEFSBER).
  it('its lines and nooks\'s come in the order of the events, on one descriptor, run after run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-exec-order-'));
    try {
      const out = join(dir, 'out');
      const runs = ['program: started', 'program: 1 ticks, bye', 'main: exit(1)', 'nooks: program failed: exit(1)'];
      for (let i = 0; i < 4; i++) {
        const fd = openSync(out, 'w');
        const child = spawn(process.execPath, [cli, 'exec', path, '--isolation', 'process', '--', '-i', '1', '-n', '1', '-x', '1'], { cwd: packageRoot, stdio: ['ignore', fd, fd] });
        await new Promise((resolve) => child.on('exit', resolve));
        closeSync(fd);
        expect(readFileSync(out, 'utf8').split('\n').map((l) => l.replace(/^(program: started).*/, '$1'))).toEqual([
          ...[1, 2, 3, 4].flatMap(() => [...runs, 'nooks: program restarting (main runs again)']),
          ...runs, 'nooks: program disabled by the policy: not restarted again', '',
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('its signals, in the process', () => {
    const kernel = kernelPerBlock({ isolation: 'mprotect' });

    it('Ctrl-C that finds the program failed, its restart to come, stops it (no handler to run it) instead of throwing', async () => {
      const d = await kernel().load(path, { name: 'prog-cc', argv: ['drv', '-i', '1', '-c', '1'] }); // faults at its first tick
      // the fault is on main's thread: wait for it without a turn of the event loop, so its recovery has not begun
      const deadline = Date.now() + 10_000; // not to hang the file if it never comes
      while (d.state === 'running' && Date.now() < deadline);
      expect(d.state).toBe('failed');
      const stopped: string[] = [];
      signalsTo(d, (signal) => stopped.push(signal))('SIGINT');
      expect(stopped).toEqual(['SIGINT']);
      expect(await d.exited).toEqual({ driver: 'prog-cc', status: null, signal: null });
    });
  });
});

// `nooks new` for every class (templates/<class>/), in C and in C++
// (driver.cc): the driver it writes
// builds with no warnings under -Werror, the test it writes passes under
// `node --test` in a project that depends on nooks (node_modules/nooks here is
// this package), its workload passes, and in this process the driver does real
// I/O through its class, takes a fault injected into its data path (a NULL
// dereference at the entry of the function named) and, restarted under its
// shadow, goes on. A class's bench module runs under `nooks bench driver` in
// every mode (plain's: test/cli-bench-driver.test.ts). `nooks new --program`'s
// program: built, its test, nooks exec with Ctrl-C, its workload under inject.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassModeResult, WorkloadResult } from '../lib/bench/classes.js';
import { applyFault, planFault } from '../lib/inject/index.js';
import { Kernel, nicWire, openBlock, openNet, openPcm, openSerial, serialPorts } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from '../lib/sdk/build.js';
import { newDriver, type DriverClass, type DriverLanguage } from '../lib/sdk/new.js';
import { ptyPair } from '../lib/testing.js';
import { pattern } from './helpers/data.js';
import { frame } from './helpers/frames.js';
import { nooks, nooksSignalled, shown } from './helpers/cli.js';
import { faultOf, runNode, suiteIsolation, until } from './helpers/util.js';

/** What a class's driver is exercised with in this process: its devices, and a round of I/O through the class. */
interface Exercise {
  /** The driver function the injected fault goes into (after the driver's name and '_'), on the path `io` takes. */
  faultIn: string;
  /** Adds the devices (before the driver is loaded); returns what `io` needs and what to release. */
  setUp(kernel: Kernel, dir: string): Promise<{ io: (round: number, faulting: boolean) => Promise<void>; close: () => Promise<void> | void }>;
}

const exercises: Record<Exclude<DriverClass, 'plain'>, Exercise> = {
  block: {
    faultIn: 'submit',
    async setUp(kernel, dir) {
      const dev = kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 1 << 20 });
      let disk: ReturnType<typeof openBlock> | undefined;
      return {
        async io(round) {
          disk ??= openBlock(kernel, dev.name);
          await disk.write(round * 65536, pattern(65536, round));
          await disk.flush();
          expect((await disk.read(round * 65536, 65536)).equals(pattern(65536, round))).toBe(true);
        },
        close: () => disk?.close(),
      };
    },
  },
  sound: {
    faultIn: 'pointer', // the kernel asks it at every period: the fault is on its interrupt thread
    async setUp(kernel, dir) {
      const played = join(dir, 'played.wav');
      const dev = kernel.addDevice('pcm', { playback: played });
      return {
        async io(round) {
          const frames = pattern(8000 * 2 * 0.2, round); // 0.2 s at 8 kHz, mono
          const p = openPcm(kernel, dev.name, { rate: 8000, channels: 1 });
          const from = existsSync(played) ? readFileSync(played).length : 44; // a stream of the same format goes on in the file
          await p.write(frames);
          await p.drain();
          expect(p.status()).toMatchObject({ framesDone: frames.length / 2, error: null });
          p.close();
          expect(readFileSync(played).subarray(from).equals(frames)).toBe(true); // each frame once, in order
        },
        close: () => {},
      };
    },
  },
  serial: {
    faultIn: 'start_tx',
    async setUp(kernel) {
      const cable = ptyPair();
      const devs = [kernel.addDevice('uart16550', { tty: cable.a }), kernel.addDevice('uart16550', { tty: cable.b })];
      let ports: ReturnType<typeof openSerial>[] = [];
      return {
        async io(round) {
          if (!ports.length) ports = devs.map((d) => openSerial(kernel, serialPorts().find((p) => p.device === d.name)!.name, { baudRate: 115200 }));
          const [left, right] = ports;
          const there = pattern(400, round);
          await left.write(there);
          expect((await right.read(there.length, 10_000)).equals(there)).toBe(true);
          const back = pattern(200, round + 1);
          await right.write(back);
          expect((await left.read(back.length, 10_000)).equals(back)).toBe(true);
        },
        async close() {
          for (const p of ports) await p.close();
          cable.close();
        },
      };
    },
  },
  net: {
    faultIn: 'xmit',
    async setUp(kernel) {
      const NIC = '52:54:00:00:00:01';
      const PEER = '52:54:00:00:00:02';
      const atPeer: Buffer[] = [];
      const received: Buffer[] = [];
      const peer = createSocket('udp4').on('message', (m) => atPeer.push(m));
      await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
      const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC });
      let eth: ReturnType<typeof openNet> | undefined;
      return {
        async io(round, faulting) {
          if (!eth) {
            eth = openNet(kernel, 'eth0');
            eth.on('frames', (fs) => received.push(...fs));
          }
          expect(eth.info().device).toBe(dev.name);
          await until(() => eth!.info().open && eth!.link, 'the interface open, its link up'); // the NIC drops what it sends without a link
          // every frame reaches the peer, or is counted lost: the class loses the batch a driver faulted on (as a wire would)
          const out = Array.from({ length: 50 }, (_, i) => frame(PEER, NIC, round * 100 + i));
          const lost = () => eth!.stats().kernel.txLost;
          const lostBefore = lost();
          atPeer.length = 0;
          eth.send(out);
          await until(() => atPeer.length + lost() - lostBefore === out.length, 'every frame at the peer or lost');
          expect(atPeer.every((f, i) => f.equals(out[out.length - atPeer.length + i]))).toBe(true);
          if (faulting) return; // frames that reach the NIC while its driver restarts are lost on the wire, as they would be on a real one
          received.length = 0;
          const port = Number(nicWire(dev.name)!.local.split(':')[1]);
          for (let i = 0; i < 30; i++) peer.send(frame(NIC, PEER, round * 100 + i), port, '127.0.0.1');
          await until(() => received.length === 30, '30 frames received');
          expect(received.map((f) => f.readUInt32BE(14))).toEqual(Array.from({ length: 30 }, (_, i) => round * 100 + i));
        },
        close() {
          eth?.close();
          peer.close();
        },
      };
    },
  },
};

/** Runs a template's workload in a project: on a kernel of its own, twice, then again after a restart of the driver. */
const workloadRunner = `
import { pathToFileURL } from 'node:url';
import { Kernel } from 'nooks';
const [so, workloadFile] = process.argv.slice(2);
const kernel = await Kernel.boot();
const driver = await kernel.load(so);
const { default: workload } = await import(pathToFileURL(workloadFile).href);
const results = [await workload({ kernel, driver }), await workload({ kernel, driver })];
driver.recover();
results.push(await workload({ kernel, driver }));
console.log(JSON.stringify({ results, devices: kernel.devices().map((d) => ({ kind: d.kind, driver: d.driver })) }));
await kernel.shutdown();
`;

/** Runs a class template's workload in a project: once (it adds its devices), then with a NULL dereference injected into one of its driver's functions. */
const faultedWorkloadRunner = `
import { pathToFileURL } from 'node:url';
import { Kernel, applyFault, planFault } from 'nooks';
const [so, workloadFile, fn] = process.argv.slice(2);
const kernel = await Kernel.boot();
const driver = await kernel.load(so);
const { default: workload } = await import(pathToFileURL(workloadFile).href);
const results = [await workload({ kernel, driver })];
applyFault(kernel, driver, planFault(so, { seed: 1, type: 'null-deref', fn, transient: true }));
const start = performance.now();
results.push(await workload({ kernel, driver }));
const faultedMs = performance.now() - start;
console.log(JSON.stringify({ results, events: kernel.events().map((e) => e.event), faultedMs }));
await kernel.shutdown();
`;

/** What each class's bench module counts. */
const benchUnits: Record<Exclude<DriverClass, 'plain'>, string> = { block: 'requests/s', net: 'frames/s', serial: 'bytes/s', sound: 'periods/s' };

/** The emulated devices of each class: what its workload adds to a kernel (once: later calls use them again), and the in-process exercise too. */
const classDevices: Record<DriverClass, string[]> = { plain: [], block: ['blk'], sound: ['pcm'], serial: ['uart16550', 'uart16550'], net: ['e1000'] };

/** The templates: each class in C and in C++ (plain's C++ driver: test/sdk-cxx.test.ts). */
const templates: [DriverClass, DriverLanguage][] = [
  ['plain', 'c'], ['block', 'c'], ['net', 'c'], ['serial', 'c'], ['sound', 'c'], ['block', 'c++'], ['net', 'c++'], ['serial', 'c++'], ['sound', 'c++'],
];

/** A project that depends on nooks (node_modules/nooks is this package), in a new directory named after `what`. */
function userProject(what: string): string {
  // a space in the project's path: what the driver's own files (its test's path to the driver) must survive
  const project = mkdtempSync(join(tmpdir(), `nooks new ${what}-`));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'drivers', private: true, type: 'module' }));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(packageRoot, join(project, 'node_modules', 'nooks')); // what `npm install nooks` gives, resolved by its exports map
  return project;
}

describe.each(templates)('nooks new --class %s --lang %s', (cls, lang) => {
  const name = lang === 'c' ? `my_${cls}` : `my_${cls}_cxx`;
  const source = `${name}.${lang === 'c' ? 'c' : 'cc'}`;
  let project: string;
  let so: string;
  let warnings: string;

  beforeAll(() => {
    project = userProject(cls);
    const made = newDriver(name, cls, project, false, lang);
    expect(made.files).toEqual([`${name}/${source}`, `${name}/${name}.test.mjs`, `${name}/workload.mjs`, `${name}/bench.mjs`]);
    expect(Object.keys(made.scripts)).toEqual([`build:${name}`, `test:${name}`, `bench:${name}`]);
    for (const f of made.files) expect(readFileSync(join(project, f), 'utf8')).not.toContain('@NAME@');
    expect(readFileSync(join(project, name, `${name}.test.mjs`), 'utf8')).toContain(`\`npx nooks build ${name}/${source} -o build/${name}.so\``); // in the driver's language
    ({ path: so, warnings } = buildDriver({ sources: [join(project, name, source)], out: join(project, 'build', `${name}.so`), extraCflags: ['-Werror'] }));
  }, 60_000);
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('builds with no warnings under -Werror', () => {
    expect(warnings).toBe(''); // and built: -Werror fails the build on any
  });

  it('the test it writes passes under node --test', async () => {
    const r = await runNode(['--test', `${name}/${name}.test.mjs`], project, 30_000);
    expect(r.stdout, r.stderr).toMatch(/^# fail 0$/m);
    expect(r.stdout).toMatch(/^# pass [1-9]\d*$/m);
    expect(r.code).toBe(0);
  }, 40_000);

  // Before: its after() hook awaited the closes one by one: a close that rejected (ETIMEDOUT) skipped the shutdown, and
  // the kernel's threads kept the process alive: node --test never ended (killed here after 15 s).
  it.runIf(cls === 'serial')('its test\'s after() hook shuts the kernel down even when a close rejects', async () => {
    const written = readFileSync(join(project, name, `${name}.test.mjs`), 'utf8');
    const leavesBytes = "test('leaves bytes waiting', () => {\n  left.write(Buffer.alloc(65536)).catch(() => {}); // ~6 s on the wire\n});\n";
    writeFileSync(join(project, name, 'busy.test.mjs'), `${written.slice(0, written.indexOf('\ntest('))}\n${leavesBytes}`);
    const r = await runNode(['--test', `${name}/busy.test.mjs`], project, 15_000);
    expect(r.stdout, r.stderr).toMatch(/closed with the transmitter still busy after 2000 ms/); // the hook's own error, reported
    expect(r.code).toBe(1);
  }, 20_000);

  it('its workload passes, on devices it adds once, and after a restart', async () => {
    writeFileSync(join(project, 'run-workload.mjs'), workloadRunner);
    const r = await runNode(['run-workload.mjs', so, join(project, name, 'workload.mjs')], project, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: unknown[]; devices: { kind: string; driver: string }[] };
    expect(out.results).toEqual([true, true, true]);
    expect(out.devices).toEqual(classDevices[cls].map((kind) => ({ kind, driver: name })));
  }, 40_000);

  it.runIf(cls !== 'plain')('its workload continues across its driver failing on the data path, restarted under its shadow', async () => {
    writeFileSync(join(project, 'run-faulted-workload.mjs'), faultedWorkloadRunner);
    const fn = `${name}_${exercises[cls as Exclude<DriverClass, 'plain'>].faultIn}`;
    const r = await runNode(['run-faulted-workload.mjs', so, join(project, name, 'workload.mjs'), fn], project, 40_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: unknown[]; events: string[]; faultedMs: number };
    expect(out).toMatchObject({ results: [true, true], events: ['fault', 'recovering', 'recovered'] });
    // it went on when the recovery ended, not when the 5 s it allows a driver without progress ran out
    expect(out.faultedMs).toBeLessThan(5_000);
  }, 50_000);

  it.runIf(cls !== 'plain')('its bench module: the class bench\'s load through the driver, > 0 units per second in every mode this machine runs', async () => {
    const r = await nooks(['bench', 'driver', '--driver', so, '--workload', `${name}/bench.mjs`, '--seconds', '0.1', '--runs', '1', '--json'], { cwd: project, timeoutMs: 30_000 });
    expect(r.code, shown(r)).toBe(0);
    const modes = (JSON.parse(r.stdout) as WorkloadResult).modes.filter((m): m is ClassModeResult => m.supported);
    expect(modes.map((m) => m.isolation)).toEqual(['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process']);
    for (const m of modes) {
      expect(m.unit, m.isolation).toBe(benchUnits[cls as Exclude<DriverClass, 'plain'>]);
      expect(m.throughput, m.isolation).toBeGreaterThan(0);
      expect(m.crossingsPerSec, m.isolation).toBeGreaterThan(0); // the units went through the driver
    }
  }, 40_000);

  it.runIf(cls === 'net')('its workload opens the interface again when its driver fails in ndo_open', async () => {
    writeFileSync(join(project, 'run-faulted-workload.mjs'), faultedWorkloadRunner);
    const r = await runNode(['run-faulted-workload.mjs', so, join(project, name, 'workload.mjs'), `${name}_open`], project, 40_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ results: [true, true], events: ['fault', 'recovering', 'recovered'] });
  }, 50_000);

  it.runIf(cls === 'plain')('its workload calls every function a fault may go into, and starts over after the restart', async () => {
    const kernel = await Kernel.boot({ isolation: suiteIsolation });
    try {
      const driver = await kernel.load(so);
      const { default: workload } = (await import(join(project, name, 'workload.mjs'))) as { default: (c: { driver: typeof driver }) => Promise<unknown> };
      const faults = () => kernel.events().filter((e) => e.event === 'fault').length;
      for (const fn of ['add', 'checksum', 'greet', 'calls']) {
        const before = faults();
        applyFault(kernel, driver, planFault(so, { seed: 1, type: 'null-deref', fn, transient: true }));
        expect(await workload({ driver }), fn).toBe(true); // done again after the restart, the transient fault gone
        expect(faults(), `a fault in ${fn} went unseen`).toBe(before + 1);
      }
    } finally {
      await kernel.shutdown();
    }
  }, 40_000);

  it(cls === 'plain' ? 'in this process: calls, and a bug contained' : 'in this process: I/O through the class, a fault injected on its path, recovered, I/O again', async () => {
    const kernel = await Kernel.boot({ isolation: suiteIsolation });
    const dir = mkdtempSync(join(tmpdir(), `nooks-new-${cls}-io-`));
    let close: () => Promise<void> | void = () => {};
    try {
      if (cls === 'plain') {
        const driver = await kernel.load(so);
        expect(driver.call('add', 2, 3)).toBe(5);
        expect(faultOf(() => driver.call('oops')).kind).toBe('segv');
        expect(driver.state).toBe('running');
        expect(driver.call('calls')).toBe(0); // a fresh start
        expect(driver.call('add', 40, 2)).toBe(42);
        return;
      }
      const ex = exercises[cls];
      const set = await ex.setUp(kernel, dir);
      close = set.close;
      const driver = await kernel.load(so);
      expect(kernel.devices().map((d) => d.driver)).toEqual(classDevices[cls].map(() => name));
      await set.io(1, false);
      applyFault(kernel, driver, planFault(so, { seed: 1, type: 'null-deref', fn: `${name}_${ex.faultIn}`, transient: true }));
      await set.io(2, true); // faults the driver on the way; its shadow keeps the class's state across the restart
      await until(() => kernel.events().some((e) => e.event === 'recovered'), 'the recovery');
      expect(kernel.events()[0].fault).toMatchObject({ kind: 'segv' });
      expect(driver.state).toBe('running');
      await set.io(3, false);
      expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'recovered']); // one fault: the injected one
    } finally {
      await close();
      await kernel.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

// `nooks new --program`: a UIO program for the e1000 (templates/program/), in C and in C++, taken as a user takes it:
// built with --posix with no warnings, its test passing under node --test, run by nooks exec on an emulated e1000 (Ctrl-C ends it, status
// 0), and its workload under nooks inject with a NULL dereference at main's entry: main run again, its work verified.
describe.each<DriverLanguage>(['c', 'c++'])('nooks new --program --lang %s', (lang) => {
  const name = lang === 'c' ? 'my_prog' : 'my_prog_cxx';
  const source = `${name}.${lang === 'c' ? 'c' : 'cc'}`;
  let project: string;
  let warnings: string;

  beforeAll(() => {
    project = userProject('program');
    const made = newDriver(name, 'program', project, false, lang);
    expect(made).toEqual({
      files: [`${name}/${source}`, `${name}/${name}.test.mjs`, `${name}/workload.mjs`], // no bench module: a program is not called
      scripts: {
        [`build:${name}`]: `nooks build --posix ${name}/${source} -o build/${name}.so`,
        [`test:${name}`]: `npm run build:${name} && node --test ${name}/${name}.test.mjs`,
      },
    });
    expect(readFileSync(join(project, name, `${name}.test.mjs`), 'utf8')).toContain(`\`npx nooks build --posix ${name}/${source} -o build/${name}.so\``);
    ({ warnings } = buildDriver({ sources: [join(project, name, source)], out: join(project, 'build', `${name}.so`), posix: true, extraCflags: ['-Werror'] }));
  }, 60_000);
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('builds with --posix with no warnings under -Wall -Wextra -Werror', () => {
    expect(warnings).toBe('');
  });

  it('the test it writes passes under node --test: argv, an interrupt per cable change, SIGTERM, a bug restarting main', async () => {
    const r = await runNode(['--test', `${name}/${name}.test.mjs`], project, 30_000);
    expect(r.stdout, r.stderr).toMatch(/^# fail 0$/m);
    expect(r.stdout).toMatch(/^# pass 3$/m);
    expect(r.code).toBe(0);
  }, 40_000);

  it('nooks exec runs it on an emulated e1000: its lines as they come; Ctrl-C runs its handler, status 0', async () => {
    const r = await nooksSignalled(['exec', `build/${name}.so`, '--device', 'e1000', '--', '-t', '100'], project, ': link up\n', 'SIGINT');
    expect(r.stdout.split('\n')).toEqual([
      `${name}: uio0: started; Ctrl-C or SIGTERM stops it`, `${name}: interrupt 1: link up`, `${name}: SIGINT: stopping`,
      `${name}: 1 interrupts, 1 link changes, bye`, '',
    ]);
    expect(r.stderr).toBe(`nooks: ${name}: e1000 at 0000:00:02.0, /dev/uio0\nmain: exit(0)\n`);
    expect(r.code).toBe(0);
  });

  it('without a device it says what to give it', async () => {
    const r = await nooks(['exec', `build/${name}.so`], { cwd: project, timeoutMs: 20_000 });
    expect(r.stderr).toContain(`${name}: no 82540EM under /sys/class/uio: give it one (nooks exec ... --device e1000)`);
    expect(r.stderr).toContain(`nooks: ${name} disabled by the policy: not restarted again`); // status 1 each run: a failure, restarted
    expect(r.code).toBe(1);
  });

  it('its workload under nooks inject: a fault at main\'s entry, main run again, the work verified', async () => {
    const r = await nooks(['inject', `build/${name}.so`, '--workload', `${name}/workload.mjs`, '--type', 'null-deref', '--site', 'main', '--seed', '1', '--json'],
      { cwd: project, timeoutMs: 30_000 });
    expect(r.code, shown(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ app: 'workload', outcome: 'continued', hostCrashed: false, failures: 1, faultKinds: ['segv'] });
  }, 40_000);
});

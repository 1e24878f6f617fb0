// One trial of the fault experiments (table-apps.ts, after the shadow-driver
// paper's Table 3; campaign.ts, after the papers' fault-injection figures):
// one application on its emulated device and driver (or a user's driver under
// its workload module, workload.ts), in one isolation mode, with a fault
// (lib/inject) in its driver's binary when it is loaded, as the Nooks
// injector did, and written into the running driver again at random moments
// of the run if asked; the driver is unloaded before the report, so that a
// fault in any of its code (module_init, probe, remove, module_exit) can
// show. It runs as a child process, because without isolation the fault takes
// the process down (that is the result), and ends with its report.
//
//   node dist/lib/experiments/trial.js '<TrialSpec as JSON>' <dir> <parent's pid> 3>&1
//
// <dir> holds the application's files (a disk image, the played sound): the
// parent made it and removes it once the process has ended, however it ended
// (a fault that took it down, a kill at the trial's time limit); the process
// itself only where the parent (its pid given) died first, however it then
// ends (the EPIPE of its channel, below, or of a workload's output).
//
// It tells its parent (child.ts) how it goes in lines on a channel of its own,
// fd 3, never on stdout: a workload module's (or an application's) output
// there is its own, and no line it prints passes for the trial's. Until the
// report (`report <JSON>`) it says `alive` every 100 ms, so that the parent
// can tell a process that hung (a driver looping on its thread) from an
// application that stalled, `started` as the application starts (the parent
// times the two parts apart), `fault <kind>` and `recovered <ms>` as they
// happen, so that a trial stopped before its end still says what nooks
// detected, and `judged` once the application's work is judged. The
// application's own verification (record checksums, echoed bytes, the played
// frames, the file's SHA-256) judges the outcome.
import { createSocket } from 'node:dgram';
import { rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDb } from '../apps/db.js';
import { echoSession } from '../apps/echo.js';
import { receiveFile } from '../apps/net-peer.js';
import { sendFile } from '../apps/net-transfer.js';
import { play } from '../apps/player.js';
import { readWav } from '../apps/wav.js';
import { openBlock } from '../classes/block.js';
import { openNet } from '../classes/net.js';
import { ptyPair } from '../classes/serial.js';
import { applyFault, textPatch, type InjectedFault } from '../inject/index.js';
import { seeded } from '../inject/random.js';
import { Driver, Kernel, type Isolation, type LoadOptions } from '../kernel.js';
import type { LogEvent } from '../native.js';
import { driverName } from '../paths.js';
import { microseconds, type RecoveryEvent } from '../recovery/agent.js';
import { defaultPolicy } from '../recovery/policy.js';
import { failedWith, importWorkload, programLoadOptions, runWorkload, workloadLoadOptions, type Verdict } from './workload.js';

export interface TrialSpec {
  /** A built-in application (trialApps), or the name of the workload below. */
  app: string;
  /**
   * A driver (a .so path, or a built-in driver's name) exercised by a user's workload module (workload.ts), in place of an
   * application; argv: a program's arguments after its name from the command line, for a workload whose load sets none.
   */
  workload?: { driver: string; module: string; index: number; mode: string; argv?: string[] };
  isolation: Isolation | 'auto';
  /** Shadow drivers (the class keeps the application's state across restarts), or plain Nooks. */
  shadow: boolean;
  /** Chooses the moments. */
  seed: number;
  fault: InjectedFault;
  /**
   * How many times the fault is injected (default 1): first at load (a hook fault: armed as the application
   * starts, so that a run over in 50 ms meets it as a slow one does), then at random moments from 20 ms to windowMs (default 300).
   */
  moments?: number;
  windowMs?: number;
  /** The watchdog's and the nannies' deadlines (default: the policy's). */
  timeBudgetMs?: number;
  stallMs?: number;
}

/** What a trial that ran to its end reports (a trial that crashed reports nothing). */
export interface TrialReport {
  app: string;
  /** What the kernel ran (auto resolved). */
  isolation: Isolation;
  /** The application's own verdict. */
  ok: boolean;
  /** Driver failures the kernel saw. */
  failures: number;
  /** The fault kind of each (segv, timeout, bad-call, stalled, ...). */
  faultKinds: string[];
  /** The driver is running at the end. */
  running: boolean;
  /** Fault to driver running again, per recovery. */
  recoveryMs: number[];
  /** Sound: the audible gap each restart cut into the playback, as the device logged it. */
  gapMs?: number[];
  /** The application's error, when not ok. */
  error?: { code: string; message: string };
}

/** An application set up for a trial, its device on the bus: run() does its job once its driver is loaded. */
interface Setup {
  run(driver: Driver): Promise<Verdict>;
  /** What the driver is loaded with besides the fault (a workload's load export). */
  options?: Omit<LoadOptions, 'patches'>;
  cleanup?(): void;
}

type AppSetup = (kernel: Kernel, dir: string) => Promise<Setup>;

export const trialApps: Record<string, { class: 'block' | 'serial' | 'sound' | 'net'; driver: string; setup: AppSetup }> = {
  db: {
    class: 'block',
    driver: 'blk',
    setup: async (kernel, dir) => {
      const dev = kernel.addDevice('blk', { image: join(dir, 'db.img'), size: 1 << 20 });
      return { run: () => runDb(openBlock(kernel, dev.name), { rounds: 24, writesPerRound: 64, records: 2048 }) };
    },
  },
  echo: {
    class: 'serial',
    driver: 'uart16550',
    setup: async (kernel) => {
      const pair = ptyPair();
      kernel.addDevice('uart16550', { tty: pair.a });
      return { run: () => echoSession(kernel, { far: pair.b, lines: 30 }), cleanup: pair.close };
    },
  },
  player: {
    class: 'sound',
    driver: 'pcm',
    setup: async (kernel, dir) => {
      const out = join(dir, 'played.wav');
      kernel.addDevice('pcm', { playback: out });
      const seconds = 0.6;
      const rate = 16000;
      return {
        run: async () => {
          const r = await play(kernel, { seconds, rate });
          if (!r.ok) return r;
          // the device wrote what it played: all of it, once
          const played = readWav(out).frames;
          const want = Math.round(seconds * rate);
          return played === want ? r : { ok: false, error: { code: 'EMISMATCH', message: `the device played ${played} frames of ${want}` } };
        },
      };
    },
  },
  'net-transfer': {
    class: 'net',
    driver: 'e1000',
    setup: async (kernel) => {
      const peer = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
      kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}` });
      const data = Buffer.alloc(400_000, 0x5a);
      return {
        run: () => {
          void receiveFile(peer); // the partner's verdict comes back to the sender (peerSha256)
          return sendFile(openNet(kernel, 'eth0'), data, { timeoutMs: 10_000 });
        },
        cleanup: () => peer.close(),
      };
    },
  },
};

/** The workload module imported: its run() is the workload's verdict on the loaded driver. */
async function workloadSetup(kernel: Kernel, spec: TrialSpec, w: NonNullable<TrialSpec['workload']>): Promise<Setup> {
  const workload = await importWorkload(w.module);
  const trial = { index: w.index, mode: w.mode, isolation: kernel.isolation, shadow: spec.shadow, fault: spec.fault };
  const own = workload.load ? await workloadLoadOptions(workload.load, { kernel, trial, seed: spec.seed }, w.module, 'workload') : {};
  if (own.argv && w.argv) {
    throw Object.assign(new Error(`workload module ${w.module} sets the program's argv in its load export: `
      + 'arguments after -- on the command line are for a workload that sets none'), { code: 'EWORKLOAD' });
  }
  const options = programLoadOptions(w.driver, w.argv ? { ...own, argv: w.argv } : own);
  return { run: (driver) => runWorkload(workload.run, { kernel, driver, trial, seed: spec.seed }), options };
}

/** The trial child's channel to its parent: a pipe of its own, apart from the stdout its workload prints on. */
export const channelFd = 3;

/** The first word of each line the trial child says on its channel (the rest, where there is one, after a space). */
export const said = {
  /** Every 100 ms: its event loop is not stuck. */
  heartbeat: 'alive',
  /** The application starts: the driver is loaded. */
  started: 'started',
  /** A driver failure, by its kind; a recovery, by its time in ms. */
  fault: 'fault',
  recovered: 'recovered',
  /** The application's work is judged: a fault after it came at the unload. */
  judged: 'judged',
  /** A trial it could not set up, the error as JSON (child.ts rejects with it). */
  setupFailed: 'setup-failed',
  /** Its last line: the TrialReport as JSON. */
  report: 'report',
} as const;

/**
 * The driver failures the kernel logs rather than reports to the recovery
 * agent (docs/api.md, kernel log events): module_init failing at load (a probe
 * that faults fails it too: the device is on the bus already), module_exit at
 * unload (the remove it runs too). Their fault kind; undefined for any other line.
 */
function loadOrUnloadFault(e: LogEvent | undefined): string | undefined {
  if (e?.kind === 'init-faulted' || e?.kind === 'exit-faulted') return String(e.fault);
  return e?.kind === 'init-failed' ? 'init-failed' : undefined;
}

/**
 * Loads the driver with the fault in its binary (a hook fault: armed once it
 * runs). A load that fails (module_init faulted or failed) is tried again, as
 * recovery restarts a running driver: without a transient fault, which
 * recovery puts back; with a persistent one, which stays. A second failure:
 * the application cannot run, its verdict.
 */
async function loadFaulted(kernel: Kernel, path: string, options: Omit<LoadOptions, 'patches'>, fault: InjectedFault,
  recovered: (ms: number) => void): Promise<Driver | Verdict> {
  const patch = textPatch(fault);
  if (!patch) {
    const driver = await kernel.load(path, { ...options, patches: [] });
    applyFault(kernel, driver, fault);
    return driver;
  }
  const first = await tryLoad(kernel, path, { ...options, patches: [patch] });
  if (first instanceof Driver) return first;
  const started = performance.now();
  const again = await tryLoad(kernel, path, { ...options, patches: fault.transient ? [] : [patch] });
  if (again instanceof Driver) recovered(microseconds(performance.now() - started));
  return again;
}

/** The driver loaded, or the verdict of a load that its module_init refused. */
async function tryLoad(kernel: Kernel, path: string, options: LoadOptions): Promise<Driver | Verdict> {
  try {
    return await kernel.load(path, options);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code !== 'EINITFAULT' && err.code !== 'EINITFAILED') throw e;
    return { ok: false, error: { code: err.code, message: err.message } };
  }
}

/**
 * Runs one trial in this process; without isolation a fault may end the process.
 * dir: where the application keeps its files, the caller's to remove (the process may not live to).
 * onStarted: the application starts (the kernel booted, the driver loaded); onJudged: its work judged, before the unload.
 */
export async function runTrial(spec: TrialSpec, dir: string, onEvent?: (e: RecoveryEvent) => void, onStarted?: () => void, onJudged?: () => void): Promise<TrialReport> {
  const { app, workload } = spec;
  const appSpec = workload ? undefined : trialApps[app];
  if (!workload && !appSpec) throw new Error(`unknown app "${app}" (apps: ${Object.keys(trialApps).join(', ')})`);
  // The default policy's give-up (5 failures within a minute): a bug back after every restart that only a
  // 1 s detector sees ends the trial with the give-up, the application told, not at the trial's limit
  const kernel = await Kernel.boot({
    isolation: spec.isolation,
    policy: {
      default: {
        ...defaultPolicy.default, shadow: spec.shadow,
        timeBudgetMs: spec.timeBudgetMs ?? defaultPolicy.default.timeBudgetMs, stallMs: spec.stallMs ?? defaultPolicy.default.stallMs,
      },
      drivers: new Map(),
    },
  });
  if (onEvent) for (const e of ['fault', 'recovered'] as const) kernel.on(e, onEvent);
  // what the agent does not see (failures at load and unload, the trial's own second load): events like its own
  const own: RecoveryEvent[] = [];
  const note = (e: Omit<RecoveryEvent, 'failuresInWindow' | 'at'>) => {
    const event = { ...e, failuresInWindow: 0, at: Date.now() };
    own.push(event);
    onEvent?.(event);
  };
  kernel.on('log', (l) => {
    const kind = loadOrUnloadFault(l.event);
    if (kind) note({ event: 'fault', driver: l.source, fault: { kind, message: l.text } });
  });
  // the 'log' listener hears the lines logged so far (a load's or an unload's: the kernel delivers them on the next turn)
  const logHeard = () => new Promise((r) => setImmediate(r));
  const report = async (result: Verdict, running: boolean): Promise<TrialReport> => {
    await logHeard();
    const events = [...kernel.events(), ...own];
    const faults = events.filter((e) => e.event === 'fault');
    const gaps = kernel.log().flatMap((l) => /playback resumed at frame \d+ after a cut of ([\d.]+) ms/.exec(l.text)?.[1] ?? []).map(Number);
    return {
      app, isolation: kernel.isolation, ok: result.ok,
      failures: faults.length,
      faultKinds: faults.map((e) => e.fault?.kind ?? 'unknown'),
      running,
      recoveryMs: events.filter((e) => e.event === 'recovered').map((e) => e.durationMs ?? 0),
      ...(appSpec?.class === 'sound' ? { gapMs: gaps } : {}),
      ...(result.ok ? {} : { error: result.error ?? { code: 'EFAIL', message: 'the application reported failure' } }),
    };
  };
  let setup: Setup | undefined;
  try {
    setup = workload ? await workloadSetup(kernel, spec, workload) : await appSpec!.setup(kernel, dir);
    const path = workload?.driver ?? appSpec!.driver;
    const loaded = await loadFaulted(kernel, path, setup.options ?? {}, spec.fault, (ms) => note({ event: 'recovered', driver: driverName(path), durationMs: ms }));
    if (!(loaded instanceof Driver)) return await report(loaded, false);
    const driver = loaded;
    // a library-style driver would load and ignore it: the user meant a program
    if (setup.options?.argv && !driver.program) {
      throw Object.assign(new Error(`${path} is no program (it defines no main, or is not built with --posix): an argv is for a program's main`), { code: 'EINVAL' });
    }
    const random = seeded(spec.seed);
    const later = (spec.moments ?? 1) - 1;
    const windowMs = spec.windowMs ?? 300;
    const timers = Array.from({ length: later }, (_, k) => 20 + ((k + random.next()) * (windowMs - 20)) / later).map((ms) =>
      setTimeout(() => {
        if (driver.state === 'running') applyFault(kernel, driver, spec.fault);
      }, ms));
    let result: Verdict;
    onStarted?.();
    try {
      result = await setup.run(driver);
    } catch (e) {
      result = failedWith(e, 'EAPP'); // the application failed (one whose device a failed probe left without a driver cannot open it), the host did not
    }
    timers.forEach(clearTimeout);
    // a failure the application saw first is still with the agent: let it finish (at most a second)
    for (let i = 0; i < 100 && ['failed', 'recovering'].includes(driver.state); i++) await new Promise((r) => setTimeout(r, 10));
    const running = driver.state === 'running';
    await logHeard(); // a failed first load (init-failed, from the log) came before the verdict, however synchronous the work
    onJudged?.();
    // module_exit runs (and remove in it): a fault there is contained, logged (loadOrUnloadFault), the driver unloaded anyway
    if (driver.state !== 'unloaded') await driver.unload(); // a program: SIGTERM, and its end waited for
    return await report(result, running);
  } finally {
    setup?.cleanup?.();
    await kernel.shutdown();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[3];
  const parent = Number(process.argv[4] ?? process.ppid); // given: its ppid at start may be the reaper's already
  // the parent gone (SIGKILLed, it could end nothing), its directory is this process's to remove, however it ends: the
  // EPIPE of its next heartbeat (below) or of the workload's output (uncaught), before (a process stuck in a driver's
  // loop writes none, and leaves it). Not while the parent lives: it removes the directory once this process is gone.
  process.on('exit', () => {
    if (process.ppid === parent) return;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a workload's threads still writing there (ENOTEMPTY): no one is left to tell
    }
  });
  // synchronous: a line written is in the pipe before a process.exit()
  const say = (...words: (string | number)[]) => {
    try {
      writeSync(channelFd, `${words.join(' ')}\n`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      process.exit(1); // the parent is gone: no one hears the trial
    }
  };
  const alive = setInterval(() => say(said.heartbeat), 100);
  const progress = (e: RecoveryEvent) => (e.event === 'fault' ? say(said.fault, e.fault?.kind ?? 'unknown') : say(said.recovered, e.durationMs ?? 0));
  let started = false;
  runTrial(JSON.parse(process.argv[2]) as TrialSpec, dir, progress, () => {
    started = true;
    say(said.started);
  }, () => say(said.judged)).then(
    (r) => {
      clearInterval(alive);
      say(said.report, JSON.stringify(r));
      process.exit(0);
    },
    (e: Error & { code?: string }) => {
      // Before the application started: the trial could not be set up (a
      // workload's load export, a load option it gave), no result of the fault's.
      if (!started) say(said.setupFailed, JSON.stringify({ code: e.code ?? 'ETRIAL', message: e.message }));
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}

// Signals of the host's while the driver runs (native/trap/host_signals.h).
// A handler installed by Node (libuv's, for a listener or a spawn; its own,
// for vm's breakOnSigint) that interrupts driver code runs under isolation
// 'pkey' with the default PKRU: on the domain's stack, it faulted at its
// first push and the process died (SIGSEGV). The kernel gives such handlers
// SA_ONSTACK (lib/host-signals.ts), and the threads it starts for drivers
// take no asynchronous signal. In one process of its own per isolation and
// scenario (test/helpers/host-signals.mjs); where driver code runs in this
// process ('process' runs it in another, whose threads block every signal).
// Under mprotect and none a handler may use the driver's stack: they passed
// before too.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport, runNode } from './helpers/util.js';

const path = fixtureDriver('host-signals', { posix: true }); // test/fixtures/drivers/host-signals.c
const program = join(packageRoot, 'test', 'helpers', 'host-signals.mjs');
const inProcess = bootableIsolations.filter((i) => i !== 'process');

type Main = { sigchldListeners: number; raised: Record<string, number>; seen: Record<string, number>; blocked: Record<string, number>; state: string };
type InWorker = { flagged: boolean; raised: Record<string, number>; seen: number; state: string };

describe.each(inProcess)('isolation %s: host signals while driver code runs', (isolation) => {
  let main: Main;
  let worker: InWorker;
  beforeAll(async () => {
    main = await programReport<Main>([program, isolation, path, 'main'], 120_000); // before, under pkey: killed by SIGSEGV
    worker = await programReport<InWorker>([program, isolation, path, 'worker'], 120_000); // the same
  }, 250_000);

  it("runs Node's handlers, installed before the boot, after it, and by a spawn after the application removed every SIGCHLD listener, and the driver goes on", () => {
    expect(main.raised).toEqual({ SIGWINCH: 0, SIGUSR2: 0, SIGCHLD: 0 });
    expect(main.seen).toEqual({ SIGWINCH: 1, SIGUSR2: 1 });
    expect(main.state).toBe('running');
  });

  it('keeps no listener the application sees', () => {
    expect(main.sigchldListeners).toBe(0);
  });

  it('starts the threads of a driver with asynchronous signals blocked, not the faults or the abort signal', () => {
    expect(main.blocked).toEqual({ SIGINT: 1, SIGTERM: 1, SIGUSR2: 1, SIGCHLD: 1, SIGWINCH: 1, SIGSEGV: 0, SIGBUS: 0, abort: 0 });
  });

  it("booted in a worker, runs the handlers the main thread's listener and spawn install", () => {
    expect(worker).toEqual({ flagged: true, raised: { SIGUSR2: 0, SIGCHLD: 0 }, seen: 1, state: 'running' });
  });

  it("runs the SIGINT handler vm's breakOnSigint leaves, which ends the process by SIGINT", async () => {
    const run = await runNode([program, isolation, path, 'breakOnSigint'], packageRoot, 120_000);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual([JSON.stringify({ flagged: true })]);
    expect({ code: run.code, signal: run.signal }).toEqual({ code: null, signal: 'SIGINT' }); // before, under pkey: SIGSEGV
  }, 130_000);
});

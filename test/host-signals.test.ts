// Signals of the host's while the driver runs (native/trap/host_signals.h).
// A handler installed by Node (libuv's, for a listener or a spawn) that
// interrupts driver code runs under isolation 'pkey' with the default PKRU:
// on the domain's stack, it faulted at its first push and the process died
// (SIGSEGV). The kernel gives such handlers SA_ONSTACK (lib/host-signals.ts),
// and the threads it starts for drivers take no asynchronous signal. In one
// process of its own per isolation (test/helpers/host-signals.mjs); where
// driver code runs in this process ('process' runs it in another, whose
// threads block every signal). Under mprotect and none a handler may use the
// driver's stack: they passed before too.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('host-signals', { posix: true }); // test/fixtures/drivers/host-signals.c
const program = join(packageRoot, 'test', 'helpers', 'host-signals.mjs');
const inProcess = bootableIsolations.filter((i) => i !== 'process');

type Report = { raised: Record<string, number>; seen: Record<string, number>; blocked: Record<string, number>; state: string };

describe.each(inProcess)('isolation %s: host signals while driver code runs', (isolation) => {
  let report: Report;
  beforeAll(async () => {
    report = await programReport<Report>([program, isolation, path], 120_000); // before, under pkey: killed by SIGSEGV
  }, 130_000);

  it("runs Node's handlers, installed before the boot, after it, and by a spawn, and the driver goes on", () => {
    expect(report.raised).toEqual({ SIGWINCH: 0, SIGUSR2: 0, SIGCHLD: 0 });
    expect(report.seen).toEqual({ SIGWINCH: 1, SIGUSR2: 1 });
    expect(report.state).toBe('running');
  });

  it('starts the threads of a driver with asynchronous signals blocked, not the faults or the abort signal', () => {
    expect(report.blocked).toEqual({ SIGINT: 1, SIGTERM: 1, SIGUSR2: 1, SIGCHLD: 1, SIGWINCH: 1, SIGSEGV: 0, SIGBUS: 0, abort: 0 });
  });
});

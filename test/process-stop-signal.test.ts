// Isolation 'process': the signal the kernel stops a twin with (SIGUSR1,
// native/isolation/process/channel.h) counts only when the kernel sends it
// to a twin that runs driver code: one the driver sends itself, or one from
// outside (kill -USR1) to an idle host process, is ignored. Before: the
// twin took either for the kernel's stop, reported a stop nobody had asked
// for and parked for ever: the driver's own made the kernel thread spin (a
// core) until the watchdog ended the call; one to an idle host process made
// the next call time out.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { hostProcesses, until } from './helpers/util.js';

const path = fixtureDriver('hostsig'); // test/fixtures/drivers/hostsig.c
const budgetMs = 500; // what a call the signal parks the twin of takes, before it times out

/** Whether a signal waits to be delivered to process `pid` (ShdPnd) or one of its threads (SigPnd). */
function signalPending(pid: number): boolean {
  const statuses = [`/proc/${pid}/status`, ...readdirSync(`/proc/${pid}/task`).map((t) => `/proc/${pid}/task/${t}/status`)];
  return statuses.some((f) => /^(SigPnd|ShdPnd):\s*0*[1-9a-f]/m.test(readFileSync(f, 'utf8')));
}

describe("isolation 'process': a stop signal the kernel did not send", () => {
  const kernel = kernelPerBlock({ isolation: 'process' });

  afterEach(() => kernel().driver('hostsig')?.unload()); // one load of a driver file at a time

  it('that the driver sends itself is ignored: the call returns', async () => {
    const d = await kernel().load(path, { timeBudgetMs: budgetMs });
    expect(d.call('stop_self')).toBe(0);
    expect(d.state).toBe('running');
    expect(d.call('add', 2, 3)).toBe(5);
  });

  it('that comes from outside to an idle host process is ignored: the next call returns', async () => {
    const d = await kernel().load(path, { timeBudgetMs: budgetMs });
    expect(d.call('add', 2, 3)).toBe(5); // its twin is up, waiting for the next call
    const [host] = hostProcesses('hostsig');
    process.kill(host, 'SIGUSR1');
    await until(() => !signalPending(host), 'the signal delivered');
    expect(d.call('add', 2, 3)).toBe(5);
    expect(d.state).toBe('running');
  });
});

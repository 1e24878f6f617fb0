// A crossing checks its domain's state, then counts itself inside (its
// DomainThread's depth). Teardown decides from those counts that no thread is
// inside; a thread between the check and the count was not seen, and went on
// into driver code in a domain already failed and being torn down. A test hook
// (holdNewThreads, 'nooks/testing') holds the driver's new thread at its first
// crossing, past the state check, until the teardown has looked for threads
// inside and taken the driver's objects: the crossing must then find the
// domain failed and not enter it. 'none' and 'pkey' cross alike (no admit
// step); under 'mprotect' the crossing takes the lock first. Where this
// machine has no protection keys, test/guest-pkey.test.ts runs this file in a
// guest, which has no compiler: the driver is a fixture built on the host.
// Under 'process' the teardown stops the driver's host process before the
// hook lets go, so no driver code runs there in this interleaving: not tested here.
import { describe, expect, it } from 'vitest';
import { holdNewThreads } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, until } from './helpers/util.js';

const path = fixtureDriver('entry-window', { posix: true }); // test/fixtures/drivers/entry-window.c

describe.each(bootableIsolations.filter((i) => i !== 'process'))('isolation %s: a thread between its state check and its count', (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it.each(['recover', 'unload'] as const)('finds the domain failed once the teardown of %s has looked, and runs no driver code in it', async (how) => {
    const d = await kernel().load(path);
    holdNewThreads(d);
    const from = kernel().log().length; // this case's lines, not an earlier case's
    const lines = () => kernel().log().slice(from).map((l) => l.text);
    expect(d.call('spawn')).toBe(0);
    await until(() => lines().some((l) => l.includes(`${d.name}: test hold`)), 'the new thread held past its state check');
    d[how](); // fail and tear down (its release waits for the thread to end), then restart or destroy the domain
    const seen = { late: lines().filter((l) => l.includes('late thread')), stuck: lines().filter((l) => l.includes('did not stop')) };
    if (how === 'recover') {
      expect(d.state).toBe('running');
      d.unload(); // before the checks: the next case loads it again
    }
    expect(seen).toEqual({ late: [], stuck: [] });
  });
});

// A kernel call handed a buffer on the stack of another of the driver's
// threads, which ends: the stack goes (inaccessible from then on). Ended
// before the call, the buffer is no longer the driver's memory: a bad-call,
// and the driver is recovered. Ending while the call runs, the call has
// borrowed the stack at its pointer check, and the stack stays until the
// call returns it (native/domain/borrowed_stack.h): the call does its work.
// Before, the call's copy faulted in kernel code and the process died of
// SIGSEGV (getdents, write, readlink under isolation 'process'). In one
// process of its own per isolation (test/helpers/borrowed-stack.mjs); not
// under `none`, which checks nothing.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('borrowed-stack', { posix: true }); // test/fixtures/drivers/borrowed-stack.c
const program = join(packageRoot, 'test', 'helpers', 'borrowed-stack.mjs');
const contained = bootableIsolations.filter((i) => i !== 'none');
const rounds = 5; // of 20 calls each

// Each call and the bad-call its wrapper's check of the buffer gives once the thread has ended.
const calls = [
  ['getdents', "nooks_posix_getdents(buf=ADDR): pointer outside the driver's writable memory"],
  ['write', "nooks_posix_write(buf=ADDR): pointer outside the driver's memory"], // it reads the buffer
  ['readlink', "nooks_posix_readlink(buf=ADDR): pointer outside the driver's writable memory"],
] as const;

describe.each(contained)("isolation %s: a buffer on another thread's stack, which ends", (isolation) => {
  let seen: { calls: Record<string, { afterEnd: unknown; race: Record<string, number> }>; extra: Record<string, number>; closedAsReturned: number };
  beforeAll(async () => {
    seen = await programReport([program, isolation, path, String(rounds)], 120_000); // before: killed by SIGSEGV
  }, 130_000);

  it.each(calls)('%s after the thread ended is a bad-call', (call, rejected) => {
    expect(seen.calls[call].afterEnd).toBe(`bad-call: ${rejected}`);
  });

  it.each(calls)('%s while the thread ends does its work (or, the thread gone first, is a bad-call)', (call, rejected) => {
    const { race } = seen.calls[call];
    expect(Object.keys(race).filter((k) => k !== 'every call did its work' && k !== `bad-call: ${rejected}`)).toEqual([]);
    expect(Object.values(race).reduce((a, b) => a + b, 0)).toBe(rounds);
  });

  // Where the driver's threads run at once, some end while a call has their stack, which the call closes as it
  // returns it; under mprotect a thread's end waits for the lock the call holds.
  it("write's further rounds, run until one closed a stack: each call did its work or was the bad-call", () => {
    expect(Object.keys(seen.extra).filter((k) => k !== 'every call did its work' && k !== `bad-call: ${calls[1][1]}`)).toEqual([]);
  });

  it(`stacks closed by the call that borrowed them: ${isolation === 'mprotect' ? 'none' : 'some'}`, () => {
    if (isolation === 'mprotect') expect(seen.closedAsReturned).toBe(0);
    else expect(seen.closedAsReturned).toBeGreaterThan(0);
  });
});

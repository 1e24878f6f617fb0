// A blocking kernel call whose driver frees, during the call's wait, memory it
// handed the call (here a buffer on the stack of another of its threads, which
// ends) must fail the driver, not kill the process: the call's access to that
// memory after its wait (a read's, poll's or epoll_wait's copy into it, a
// join's result, through write_back; a futex wait's or a contended mutex's
// look at its word, wait_on_word; a contended spinlock's next try:
// native/kapi/wait.h) faults, and the fault ends the access
// (native/trap/guarded.h), the call's thread leaves the driver, which is
// recovered (docs/recovery.md, "Driver memory gone during a wait"). In one
// process of its own per isolation, every call in turn
// (test/helpers/gone-buffer.mjs): before, the fault in kernel code killed it.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('gone-buffer', { posix: true }); // test/fixtures/drivers/gone-buffer.c
const program = join(packageRoot, 'test', 'helpers', 'gone-buffer.mjs');

// Each call, the kernel call it names in the fault, and what else it sees.
const calls = [
  ['read', 'read', { arrived: 0 }],
  ['futex', 'futex_wait', {}],
  ['poll', 'poll', { arrived: 0 }],
  ['epoll', 'epoll_wait', { arrived: 0 }],
  ['join', 'pthread_join', { arrived: 0 }],
  ['mutex', 'mutex_lock', {}],
  ['spin', 'spin_lock', {}],
] as const;

describe.each(bootableIsolations)('isolation %s: driver memory a blocking call touches after its wait, gone meanwhile', (isolation) => {
  let seen: Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    seen = await programReport([program, isolation, path, ...calls.map(([how]) => how)], 60_000); // before: killed by SIGSEGV
  }, 70_000);

  it.each(calls)('%s fails the driver, naming the call (%s) and the address, and the driver is recovered', (how, call, more) => {
    expect(seen[how]).toEqual({
      ownerEnded: 0,
      ...more,
      kind: 'bad-call',
      namesTheBuffer: true,
      message: `${call}: the driver's memory at ADDR, which the call accesses after its wait, is gone (freed meanwhile: the stack of a thread that ended?)`,
      state: 'running',
      wentOn: 0,
    });
  });
});

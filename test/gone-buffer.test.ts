// A blocking kernel call whose driver frees, during the call's wait, memory it
// handed the call (here a buffer on the stack of another of its threads, which
// ends) must fail the driver, not kill the process: the call's access to that
// memory after its wait (a read's copy into it through write_back, a futex
// wait's look at its word: native/kapi/wait.h) faults, and the fault ends the
// access (native/trap/guarded.h), the call's thread leaves the driver, which
// is recovered (docs/recovery.md, "Driver memory gone during a wait"). In a
// process of its own (test/helpers/gone-buffer.mjs): before, the fault in
// kernel code killed it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, runNode } from './helpers/util.js';

const path = fixtureDriver('gone-buffer', { posix: true }); // test/fixtures/drivers/gone-buffer.c
const program = join(packageRoot, 'test', 'helpers', 'gone-buffer.mjs');

async function scenario(isolation: string, how: 'read' | 'futex'): Promise<Record<string, unknown>> {
  const run = await runNode([program, isolation, path, how], packageRoot, 40_000);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe.each(bootableIsolations)('isolation %s: driver memory a blocking call touches after its wait, gone meanwhile', (isolation) => {
  it.each([
    ['read', 'read', { arrived: 0 }],
    ['futex wait', 'futex', {}],
  ] as const)('a %s fails the driver, naming the call and the address, and the driver is recovered', async (_, how, more) => {
    expect(await scenario(isolation, how)).toEqual({
      ownerEnded: 0,
      ...more,
      kind: 'bad-call',
      namesTheBuffer: true,
      message: `${how === 'read' ? 'read' : 'futex_wait'}: the driver's memory at ADDR, which the call accesses after its wait, is gone (freed meanwhile: the stack of a thread that ended?)`,
      state: 'running',
      wentOn: 0,
    });
  }, 60_000);
});

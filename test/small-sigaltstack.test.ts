// A thread that has a signal stack already when it first enters a driver
// (another library in the process gave it one) keeps it only if it is as large
// as the one the kernel maps (native/xpc/xpc.cc, thread_register): the driver
// faults of that thread are handled there. Before, any was kept, and with one
// of MINSIGSTKSZ (2 KiB), smaller than one signal frame of a CPU with AVX-512,
// the first driver fault killed the process (SIGSEGV; the kernel log: "node[pid]
// overflowed sigaltstack"). A library preloaded into a node of its own
// (test/helpers/small-sigaltstack.c) gives its main thread such a stack; the
// program (test/helpers/small-sigaltstack.mjs) faults a driver twice on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildPreload, runNode } from './helpers/util.js';

// Where the host's thread handles the driver's fault ('process': the driver's host process does).
const isolations = ['mprotect', ...(Kernel.pkuSupported() ? ['pkey'] : [])];
const program = join(packageRoot, 'test', 'helpers', 'small-sigaltstack.mjs');

describe.each(isolations)('isolation %s: a thread whose signal stack is too small for a fault', (isolation) => {
  let dir: string;
  let preload: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-small-sigaltstack-'));
    preload = buildPreload('small-sigaltstack', dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gets a stack of the kernel\'s: its driver faults are contained and the driver recovered', async ({ skip }) => {
    const run = await runNode([program, isolation], packageRoot, 30_000, { ...process.env, LD_PRELOAD: preload });
    if (run.stdout.includes('"preloaded":"refused"')) skip('this Linux refuses a signal stack smaller than a signal frame (strict_sas_size)');
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' }); // before: signal SIGSEGV
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({ preloaded: '2048', kinds: ['segv', 'segv'], state: 'running', sum: 5 });
  }, 40_000);
});

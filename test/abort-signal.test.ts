// The kernel ends driver code with a real-time signal (SIGRTMIN+3,
// native/trap/trap.cc): a library of the host's that uses the same one must
// still get its own. Before, the kernel's handler took every SIGRTMIN+3 and
// dropped those that were not its requests: the library's handler, installed
// before the boot, never ran (the program timed out waiting for "the library's
// handler to get the signal"). A library preloaded into a node of its own
// (test/helpers/rt-signal-library.c) counts the signals its handler gets; the
// program (test/helpers/rt-signal-library.mjs) sends two, and has the
// watchdog end a driver's loop between them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { buildPreload, runNode, runProgram } from './helpers/util.js';

// Where the driver's code runs in this process ('process': in its host process, whose abort is another signal).
const isolations = ['none', 'mprotect', ...(Kernel.pkuSupported() ? ['pkey'] : [])];
const program = join(packageRoot, 'test', 'helpers', 'rt-signal-library.mjs');

let dir: string;
let preload: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nooks-rt-signal-'));
  preload = buildPreload('rt-signal-library', dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each(isolations)("isolation %s: a host library's own SIGRTMIN+3 reaches its handler; none of the kernel's requests to leave driver code does", async (isolation) => {
  const env = { ...process.env, LD_PRELOAD: preload, NOOKS_TEST_RT_COUNT: join(dir, `count-${isolation}`) };
  const run = await runNode([program, isolation], packageRoot, 30_000, env);
  expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({ signal: expect.any(Number), counts: [1, 1, 2], kind: 'timeout', state: 'running' });
}, 40_000);

// Before: the kernel's handler passed each SIGRTMIN+3 to an SA_RESETHAND handler as if it stayed installed: the
// second signal, which without nooks ends the process (the default action), reached the handler again and the
// program went on ("exit 0", the count 2). The library's handler is SA_RESETHAND here; the shell says how node ended.
it.each(isolations)('isolation %s: a host library\'s SA_RESETHAND handler of SIGRTMIN+3 runs once; the next signal ends the process', async (isolation) => {
  const count = join(dir, `count-once-${isolation}`);
  const env = { ...process.env, NOOKS_TEST_RT_COUNT: count, NOOKS_TEST_RT_RESETHAND: '1' };
  const run = await runProgram('/bin/sh', ['-c', 'LD_PRELOAD="$1" "$2" "$3" "$4"; echo "exit $?"', 'sh', preload, process.execPath, program, isolation], packageRoot, 30_000, env);
  expect({ stdout: run.stdout, count: readFileSync(count, 'utf8') }).toEqual({ stdout: `exit ${128 + 34 + 3}\n`, count: '+' }); // glibc's SIGRTMIN: 34
}, 40_000);

// Before: the kernel's handler called the library's within its own, with its own mask: the library's sa_mask (SIGUSR2
// here) was not blocked while it ran, so a handler that relies on it to keep another out (its data half-changed) was
// interrupted by it (the count file said 'mm'). The handler's byte says whether it ran with the mask it asked for.
it.each(isolations)("isolation %s: a host library's handler of SIGRTMIN+3 runs with its sa_mask blocked", async (isolation) => {
  const count = join(dir, `count-mask-${isolation}`);
  const env = { ...process.env, LD_PRELOAD: preload, NOOKS_TEST_RT_COUNT: count, NOOKS_TEST_RT_MASK: '1' };
  const run = await runNode([program, isolation], packageRoot, 30_000, env);
  expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(readFileSync(count, 'utf8')).toBe('++');
}, 40_000);

// The kernel belongs to the thread that booted it: worker threads may query
// and fail to boot without touching it, and a worker terminated while inside a
// driver unwinds cleanly. Each case runs in a child process
// (test/helpers/worker-kernel.mjs, from dist/) so that an abort is seen.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { runNode } from './helpers/util.js';

const program = join(packageRoot, 'test', 'helpers', 'worker-kernel.mjs');
const run = async (scenario: string, isolation: string) => {
  const r = await runNode([program, scenario, isolation], packageRoot);
  expect(r.stderr).not.toMatch(/terminate called|Napi::Error/);
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  return r.stdout;
};

describe.each(['mprotect', 'process'])('worker threads (isolation %s)', (isolation) => {
  it('a worker that only calls Kernel.pkuSupported() leaves the main kernel running when it exits', async () => {
    const out = await run('query', isolation);
    expect(out).toContain('worker pkuSupported: boolean');
    expect(out).toContain('main call: 5\nmain domains: crashy running');
  });

  it("a worker whose Kernel.boot() fails (EBOOTED) leaves the main kernel running", async () => {
    const out = await run('boot', isolation);
    expect(out).toContain('worker boot: EBOOTED the kernel belongs to the thread that booted it');
    expect(out).toContain('main call: 5\nmain domains: crashy running');
  });

  it('worker.terminate() while the worker is in a driver that then hits the watchdog unwinds cleanly', async () => {
    const out = await run('terminate', isolation);
    expect(out).toContain('terminating the worker inside the driver\nworker exited 1\nmain call: 5');
  });
});

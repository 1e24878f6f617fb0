// The kernel without membarrier(2): a crossing and a teardown agree on who is
// inside a domain by an asymmetric Dekker whose teardown half is
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (native/xpc/entry_barrier.h).
// Where the process cannot register for it at boot (a kernel built without
// it, a sandbox's seccomp profile), every crossing and teardown pays a full
// fence instead, and the kernel says so in its log. A launcher
// (test/helpers/no-membarrier.c) takes the call away with a seccomp filter,
// failing it with ENOSYS or EPERM, and this file runs itself and
// test/entry-window.test.ts (a thread held between its state check and its
// count while the teardown looks) under it: the kernel logs the fallback once
// per boot, crossings work in every isolation this machine has, and a failed
// driver is recovered and unloaded. The launcher kills the process if the
// teardown still asks for the expedited barrier, which would fail and order
// nothing; the crossing's full fence has no such witness: what it prevents
// is a reordering no test can bring about on demand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelPerBlock } from './helpers/kernel.js';
import { buildLauncher, vitestUnder } from './helpers/launchers.js';
import { bootableIsolations, faultOf } from './helpers/util.js';

const kErrors = ['ENOSYS', 'EPERM'] as const;
const underLauncher = process.env.NOOKS_TEST_NO_MEMBARRIER as (typeof kErrors)[number] | undefined;
const kFallbackLine = 'membarrier(2) unavailable: every crossing pays a full fence';

describe.skipIf(underLauncher)('without membarrier(2)', () => {
  let dir: string;
  let launcher: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-no-membarrier-'));
    launcher = buildLauncher(dir, 'no-membarrier');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(kErrors)('membarrier failing with %s: this file and test/entry-window.test.ts pass under the launcher', async (error) => {
    const files = ['test/no-membarrier.test.ts', 'test/entry-window.test.ts'];
    const { code, output } = await vitestUnder(launcher, [error], files, 100_000);
    // a worker killed by the launcher shows as vitest's 'Worker exited unexpectedly', without a word on why
    expect(code, `${output}\n(a worker gone? the launcher kills one that asks for MEMBARRIER_CMD_PRIVATE_EXPEDITED)`).toBe(0);
    expect(output).toContain(`the fallback's full fences (membarrier failing with ${error})`); // the inner test ran, under the filter
    expect(output).toMatch(new RegExp(`Test Files\\s+${files.length} passed \\(${files.length}\\)`));
    expect(output).toMatch(/^\s*Tests\s+\d+ passed/m); // none failed (vitest would say so first)
  }, 110_000);
});

describe.runIf(underLauncher).each(bootableIsolations)(`isolation %s: the fallback's full fences (membarrier failing with ${underLauncher})`, (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  const fallbackLines = () => kernel().log().filter((l) => l.text.includes(kFallbackLine));

  it('logs the fallback once at boot; crossings work; a failed driver is recovered and unloaded', async () => {
    expect(fallbackLines()).toHaveLength(1);
    const nul = await kernel().load('null');
    expect(nul.call('nest', 5)).toBe(5); // nested crossings: driver -> kernel -> driver, five deep
    nul.unload();
    const d = await kernel().load('crashy');
    expect(d.call('add', 2, 3)).toBe(5);
    if (isolation === 'none') d.recover(); // no fault is contained there: failed on purpose
    else expect(faultOf(() => d.call('null_deref')).kind).toBe('segv'); // recovered before the call throws
    expect(d.state).toBe('running');
    expect(kernel().domains().find((x) => x.name === 'crashy')!.recoveries).toBe(1);
    expect(d.call('add', 2, 3)).toBe(5);
    d.unload(); // a second teardown
    expect(fallbackLines()).toHaveLength(1); // said once, not per crossing or teardown
  });
});

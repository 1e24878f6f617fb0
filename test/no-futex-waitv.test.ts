// The kernel's waits on Linux before 5.16, which has no futex_waitv: a wait
// on a word of driver memory (a condition, pthread_once, a FILE stream's lock,
// a contended mutex) then sleeps on that word alone and looks every 10 ms for
// a request to leave (native/kapi/wait.cc, sleep_on_last). This machine's
// Linux has futex_waitv; a launcher (test/helpers/no-futex-waitv.c) takes it
// away as an older kernel lacks it, with a seccomp filter that fails the call
// with ENOSYS, and runs the POSIX waits' tests under it in their own vitest:
// every wait works, sleeps in the fallback's futex (helpers/tasks.ts,
// inKernelWait), and a fault ends every wait, in none, mprotect and process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLauncher, launchedEnv, vitestUnder } from './helpers/launchers.js';
import { runProgram } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-no-futex-waitv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let launcher: string;
beforeAll(() => {
  launcher = buildLauncher(dir, 'no-futex-waitv');
});

const kWaitTests = ['test/posix-idle-waits.test.ts', 'test/posix-threads.test.ts', 'test/posix-wait-queues.test.ts'];

describe('without futex_waitv (as on Linux before 5.16)', () => {
  it('the launcher fails futex_waitv with ENOSYS in the command it runs, and tells it so', async () => {
    const r = await runProgram(launcher, ['sh', '-c', 'echo "$NOOKS_TEST_NO_FUTEX_WAITV"; grep Seccomp: /proc/self/status'], dir, 20_000, launchedEnv);
    expect(r.stderr).toBe(''); // it checks, before its exec, that futex_waitv fails with ENOSYS
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '1\nSeccomp:\t2\n' }); // 2: a filter, inherited
  });

  it('the POSIX waits work, sleep in the fallback, and a fault ends every one, in none, mprotect and process', async () => {
    // one file at a time: beside this run's other files, the time budgets of the tests' drivers are a machine's load away from running out
    // 36 to 47 s alone at a load average of 5 to 7; beside the rest of the suite on a loaded machine, several times that
    const { code, output } = await vitestUnder(launcher, [], ['--no-file-parallelism', ...kWaitTests], 280_000);
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`Test Files\\s+${kWaitTests.length} passed \\(${kWaitTests.length}\\)`));
    expect(output).toContain('without futex_waitv: a condition and a mutex every 10 ms'); // the idle waits' test knew
    expect(output).toMatch(/^\s*Tests\s+\d+ passed/m); // none failed (vitest would say so first)
  }, 290_000);
});

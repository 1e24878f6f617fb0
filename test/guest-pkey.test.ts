// Isolation 'pkey' where this machine cannot run it: inside a QEMU guest
// (TCG, -cpu max emulates protection keys) on a Debian kernel >= 6.12, the
// pkey fault matrices, the device classes and their shadow drivers run for
// real against the project's own build.
// Skipped only when QEMU is not installed (.ci/run installs it).
import { describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { qemuAvailable, runInGuest } from '../lib/guest/qemu.js';
import { fixtureDriver } from './helpers/build-driver.js';

const here = Kernel.pkuSupported();
const qemu = qemuAvailable();
const files = ['test/faults-pkey.test.ts', 'test/faults-pkey-deadlock.test.ts', 'test/xpc-pkey.test.ts', 'test/pkey-keys.test.ts', 'test/bus.test.ts',
  'test/block.test.ts', 'test/sound.test.ts',
  'test/net.test.ts', 'test/net-transfer.test.ts',
  'test/block-shadow.test.ts', 'test/serial-shadow.test.ts', 'test/sound-shadow.test.ts', 'test/mmio-trap.test.ts',
  'test/e1000-libc.test.ts', 'test/callee-saved.test.ts', 'test/entry-window.test.ts', 'test/posix-tls.test.ts',
  'test/borrowed-stack.test.ts', 'test/host-signals.test.ts', 'test/program-signals.test.ts'];

describe.skipIf(here || !qemu)(
  `isolation 'pkey' in a QEMU guest${here ? ' (skipped: it runs natively here)' : qemu ? '' : ' (skipped: qemu-system-x86_64 is not installed)'}`,
  () => {
    it('runs the pkey fault matrices with every test passing and none skipped', async () => {
      // the guest has no compiler: the files' fixture drivers are built here
      fixtureDriver('clobber'); // callee-saved's
      fixtureDriver('entry-window', { posix: true });
      fixtureDriver('posix-tls', { posix: true });
      fixtureDriver('borrowed-stack', { posix: true });
      fixtureDriver('host-signals', { posix: true });
      fixtureDriver('key-reuse', { posix: true });
      fixtureDriver('program-signals', { posix: true }); // programs under pkey: masks, sigwait, signalfd, sa_mask, pthread_exit on main
      fixtureDriver('pcm-late'); // sound-shadow's fallback
      const run = await runInGuest({
        minKernel: [6, 12],
        // vitest writes no config bundle on the read-only project with the runner loader
        // project default: the class suites under the guest's default isolation, pkey (the process project needs no PKU)
        // --no-isolate: one process for the files, as each file's Node start and module load cost 20-30 s under TCG;
        // the files boot and shut down their own kernels, and a kernel booted after another's shutdown starts afresh
        // NOOKS_TEST_ISOLATIONS=pkey: a file that runs its tests under each isolation runs them under pkey alone here,
        // the others running natively in the same test run (test/helpers/util.ts, bootableIsolations)
        command: `grep -qw pku /proc/cpuinfo && NOOKS_TEST_DRIVERS_PREBUILT=1 NOOKS_TEST_ISOLATIONS=pkey node node_modules/vitest/vitest.mjs run --configLoader runner --project default --no-isolate ${files.join(' ')}`,
        timeoutMs: 900_000,
      });
      const output = run.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''); // the reporter's colours
      const summary = [...output.matchAll(/Tests\s+(\d+) passed \((\d+)\)/g)].at(-1); // the final summary, not a progress line
      if (run.exitCode !== 0 || !summary) console.log(output.slice(-6000));
      expect(run.exitCode).toBe(0);
      expect(summary).not.toBeNull();
      expect(Number(summary![1])).toBeGreaterThan(10);
      expect(summary![1]).toBe(summary![2]); // all passed, none skipped
      expect(output).toMatch(new RegExp(`Test Files\\s+${files.length} passed \\(${files.length}\\)`));
    }, 960_000);
  },
);

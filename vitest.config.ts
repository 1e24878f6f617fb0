import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The device-class suites, run a second time with every driver in a host
// process of its own (isolation 'process'): the same tests, the same drivers.
const classSuites = ['block', 'block-shadow', 'bus', 'net', 'net-busy', 'net-open-recovery', 'net-transfer', 'reboot', 'serial', 'serial-detach', 'serial-shadow', 'shadow-unregistered', 'sound', 'sound-shadow', 'taps'];

// The QEMU guests' files, longest first: minutes each on one emulated CPU.
// Started first, they run beside the rest of the suite instead of being the
// last files left.
const guestFiles = ['guest-pkey', 'guest-e1000-libc', 'guest-pci'];
class GuestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = guestFiles.findIndex((g) => f.moduleId.endsWith(`/test/${g}.test.ts`));
      return i < 0 ? guestFiles.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // a stable sort: the rest keep vitest's order
  }
}

// The kernel is one per process (signal handlers, protection keys): every test
// file runs in a child process of its own (the forks pool, isolated: vitest's
// default), one per core but one (vitest's default), and two on a 2-core
// machine, where the default would leave a core idle; one in the 1-CPU QEMU
// guest.
const cores = availableParallelism();
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: Math.max(Math.min(cores, 2), cores - 1),
    sequence: { sequencer: GuestsFirst },
    testTimeout: 30_000,
    setupFiles: ['test/helpers/in-flight.ts'],
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'process',
          include: classSuites.map((s) => `test/${s}.test.ts`),
          env: { NOOKS_TEST_ISOLATION: 'process' },
        },
      },
    ],
  },
});

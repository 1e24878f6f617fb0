import { defineConfig } from 'vitest/config';

// The device-class suites, run a second time with every driver in a host
// process of its own (isolation 'process'): the same tests, the same drivers.
const classSuites = ['block', 'block-shadow', 'bus', 'net', 'net-transfer', 'serial', 'serial-shadow', 'sound', 'sound-shadow', 'taps'];

// The kernel is one per process (signal handlers, protection keys): every test
// file runs in its own child process, one at a time per core.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
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

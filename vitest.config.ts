import { defineConfig } from 'vitest/config';

// The kernel is one per process (signal handlers, protection keys): every test
// file runs in its own child process, one at a time per core.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

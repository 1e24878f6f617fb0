// Kernel code's guarded accesses to driver memory (native/trap/guarded.cc)
// under ASan and UBSan (native/trap/run-tests.sh guarded): an access that
// faults, SIGSEGV or SIGBUS, returns false with the faulting address, inside
// the scope of a lock held around it, and 10000 in a row leave nothing
// blocked. What uses them, in a driver: test/gone-buffer.test.ts.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';

it("kernel code's guarded accesses to driver memory pass their native tests under ASan and UBSan", () => {
  const out = execFileSync('sh', [join(packageRoot, 'native/trap/run-tests.sh'), 'guarded'], { encoding: 'utf8' });
  expect(out).toMatch(/guarded: all checks passed/);
}, 60_000);

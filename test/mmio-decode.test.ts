// The MMIO trap's native parts under ASan and UBSan (native/trap/run-tests.sh mmio):
// the instruction decoder (x86_decode.cc) on the volatile accesses gcc emits
// at -O0 and -O2, PIE and not, run against a page that traps and emulated
// through it, then on random bytes, which must never crash it nor make it read
// past 15 bytes or past the instruction it decodes; and the handler side and
// stub (mmio.cc, mmio_x86_64.S) with a kernel call that wrecks every register
// a callee may: the driver's must all come back; and a trapped load makes no
// system call but the signal return (a child under a seccomp filter).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';

it('the decoder and the stub pass their native tests under ASan and UBSan', () => {
  const out = execFileSync('sh', [join(packageRoot, 'native/trap/run-tests.sh'), 'mmio'], { encoding: 'utf8' });
  expect(out).toMatch(/decode: 1[0-9]{2} trapped accesses emulated/);
  expect(out).toMatch(/decode: fuzz: [1-9][0-9]* of 2000000 random instructions decoded/);
  expect(out).toMatch(/decode: all checks passed/);
  expect(out).toMatch(/stub: every register kept across a trapped load/);
  expect(out).toMatch(/stub: 1000 trapped loads, no system call but the signal return/);
  expect(out).toMatch(/stub: all checks passed/);
}, 120_000);

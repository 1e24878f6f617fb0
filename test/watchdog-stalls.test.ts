// The watchdog's memory of stuck threads (native/trap/stalls.cc) under ASan
// and UBSan (native/trap/run-tests.sh stalls). It knows a thread by its
// ThreadCtx address and serial number: a driver thread that ends and a new one
// that gets its address, with the same count of entries, are two threads, and
// the new one's budget starts when it is first seen (keyed on the address
// alone, it was timed out at once). Deterministic there, where a test with real
// threads would depend on malloc handing the address out again and on when the
// watchdog happens to look. And its clock (native/trap/run_clock.h): a gap of
// its loop past 50 ms (the process stopped) counts 50 ms.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';

it("the watchdog's memory of stuck threads and its clock pass their native tests under ASan and UBSan", () => {
  const out = execFileSync('sh', [join(packageRoot, 'native/trap/run-tests.sh'), 'stalls'], { encoding: 'utf8' });
  expect(out).toMatch(/stalls: all checks passed/);
}, 60_000);

// How a thread that finds a driver's domain by its slot, outside any crossing
// (a sound stream's thread, the watchdog, a nanny, a device's DMA), keeps the
// domain from being freed under it by an unload (native/domain/slot_use.h,
// DomainUse): its native tests under ASan and UBSan, then TSan
// (native/domain/run-tests.sh). A thread holding a use holds the unload's
// free up until it lets go; a use taken after the slot was emptied finds
// nothing; readers against a thread that keeps freeing what the slots hold
// never touch freed memory.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';

it('a domain found by its slot stays allocated while used: native tests under ASan, UBSan and TSan', () => {
  const out = execFileSync('sh', [join(packageRoot, 'native/domain/run-tests.sh')], { encoding: 'utf8' });
  expect(out.match(/slot_use: all checks passed/g)).toHaveLength(2);
}, 120_000);

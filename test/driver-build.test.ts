// The driver side of the build: the unit tests of the runtime and of the POSIX
// personality (its pure parts, thread state, waits and directories, under
// ASan and UBSan), and the hygiene of what the build made of every driver
// (imports only kernel calls, exports only entry points, no state in the
// runtime).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native.js';
import { packageRoot } from '../lib/paths.js';

const run = (script: string) => execFileSync('sh', [join(packageRoot, script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('drivers as built', () => {
  it('the driver runtime and the POSIX personality\'s pure parts, thread state, waits and directories pass their unit tests under AddressSanitizer and UBSan', () => {
    const out = run('native/driver-rt/run-tests.sh');
    expect(out).toMatch(/driver-rt: all checks passed/);
    expect(out).toMatch(/posix: all checks passed/);
    expect(out).toMatch(/test_threads: 128 threads ok/); // 16 domain-like stacks, each taken by 8 threads in turn
    expect(out).toMatch(/test_waits: conditions, word lock, pthread_once, mutexes, semaphores, rwlocks and barriers ok/); // on real futexes
    expect(out).toMatch(/test_dirent: 104 entries listed ok/); // 100 files, a directory, a link, '.' and '..'
  }, 120_000); // 46 s on a loaded 2-core machine

  it('every driver imports only kernel calls and exports only its entry points', () => {
    const out = run('drivers/build-check.sh');
    expect(out).toMatch(/build-check: ok/);
    for (const d of ['crashy', 'ticker', 'null']) expect(out).toContain(`${d}:`);
  }, 60_000);

  // The loader's own check, file by file: what build-check's rules leave out (a POSIX driver's
  // sources named otherwise: e1000-libc's, whose personality called libgcc's __popcountdi2 unlinked)
  it('every driver the build made is one the loader accepts', () => {
    const dir = join(packageRoot, 'build', 'drivers');
    const refused = readdirSync(dir).filter((f) => f.endsWith('.so')).flatMap((f) => {
      try {
        native().checkDriver(join(dir, f));
        return [];
      } catch (e) {
        return [`${f}: ${(e as Error).message}`];
      }
    });
    expect(refused).toEqual([]);
  });
});

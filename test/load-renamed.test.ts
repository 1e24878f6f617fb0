// A driver file renamed over (a rebuild) after the loader read and checked it
// and before dlopen mapped it: the load is refused (ELOAD, "load it again"),
// never run as one build's code under another's checks and function names
// (native/loader/loader.cc, mapped_as_read). A preloaded dlopen
// (test/helpers/swap-at-dlopen.c) does the rename in that window, in a child
// process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-load-renamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const driver = (answer: number) => `#include <nooks/kapi.h>
NOOKS_EXPORT long answer(void) { return ${answer}; }
static int start(void) { return 0; }
module_init(start);
`;

/** Loads `checked` in a child process that renames `rebuilt` over it just before dlopen: it must be refused, ELOAD. */
async function loadSwapped(checked: string, rebuilt: string): Promise<void> {
  const preload = join(dir, 'swap-at-dlopen.so');
  execFileSync('cc', ['-shared', '-fPIC', '-Wall', '-Wextra', '-Werror', join(packageRoot, 'test', 'helpers', 'swap-at-dlopen.c'), '-o', preload, '-ldl']);
  writeFileSync(join(dir, 'list'), `${checked}\n`);
  const run = await runNode([join(packageRoot, 'test', 'helpers', 'load-each.mjs'), 'mprotect', join(dir, 'list'), 'answer'], packageRoot, 20_000, {
    ...process.env, LD_PRELOAD: preload, SWAP_TO: checked, SWAP_FROM: rebuilt,
  });
  expect(run.code, run.stderr).toBe(0);
  const outcome = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((o) => o.file === checked);
  expect(outcome).toMatchObject({ code: 'ELOAD', message: `${checked}: the file changed while it was being loaded (a build wrote it meanwhile?); load it again` });
}

it('a driver file renamed over between the checks and dlopen is refused (ELOAD), its replacement never run', async () => {
  const checked = buildDriver(dir, 'checked', driver(1));
  const rebuilt = buildDriver(dir, 'rebuilt', `${driver(2)}NOOKS_EXPORT long more(void) { return 3; }\n`);
  await loadSwapped(checked, rebuilt);
});

// dlopen maps the text segment's last page whole: its bytes past the segment's are executable, and were scanned in the checked file only
it('a replacement that differs only past the text segment\'s bytes in its last page (a WRPKRU there) is refused too', async () => {
  const checked = buildDriver(dir, 'checked_tail', driver(1));
  const elf = readFileSync(checked);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const text = Array.from({ length: elf.readUInt16LE(0x38) }, (_, i) => phoff + 56 * i).find((o) => elf.readUInt32LE(o) === 1 && elf.readUInt32LE(o + 4) & 1)!;
  const end = Number(elf.readBigUInt64LE(text + 8) + elf.readBigUInt64LE(text + 32)), pageEnd = Math.ceil(end / 4096) * 4096;
  expect(pageEnd - end).toBeGreaterThanOrEqual(3);
  elf.set([0x0f, 0x01, 0xef], pageEnd - 3);
  const rebuilt = join(dir, 'rebuilt_tail.so');
  writeFileSync(rebuilt, elf);
  await loadSwapped(checked, rebuilt);
});

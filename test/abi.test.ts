// The kernel-API version stamp: every driver built with <nooks/kapi.h> carries
// the version it was built against (an ELF note); the loader refuses another
// version with EABI naming both, and loads an unstamped driver with a warning.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { driverCflags, driverLinkFlags } from '../lib/sdk/flags.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-abi-'));
const version = /#define NOOKS_KAPI_VERSION "([^"]+)"/.exec(readFileSync(join(packageRoot, 'gen', 'nooks', 'abi.h'), 'utf8'))![1];
const init = 'static int init(void) { return 0; }\nmodule_init(init);\nNOOKS_EXPORT long seven(void) { return 7; }\n';

describe('kernel-API version', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a driver built with this package\'s headers carries its version and loads', async () => {
    const so = buildDriver(dir, 'same', `#include <nooks/kapi.h>\n${init}`);
    expect(readFileSync(so).includes(Buffer.from(`nooks\0\0\0${version}\0`))).toBe(true);
    const d = await kernel().load(so);
    expect(d.call('seven')).toBe(7);
    d.unload();
  });

  it('a driver built against another kernel API: EABI, naming both versions', async () => {
    // the headers of another nooks: the same header with another generated version
    const so = buildDriver(dir, 'other', `#define NOOKS_ABI_H\n#define NOOKS_KAPI_VERSION "kapi-000000000000"\n#include <nooks/kapi.h>\n${init}`);
    const err = await rejectionOf(kernel().load(so));
    expect(err.code).toBe('EABI');
    for (const name of [so, 'kapi-000000000000', version]) expect(err.message).toContain(name);
    expect(kernel().domains()).toEqual([]);
  });

  it('a driver without the stamp loads, with a warning in the log', async () => {
    // built without the header and without the driver runtime (whose objects carry the stamp too)
    const src = join(dir, 'bare.c'), so = join(dir, 'bare.so');
    writeFileSync(src, '__attribute__((visibility("default"))) int nooks_module_init(void) { return 0; }\n');
    execFileSync('cc', [...driverCflags, src, '-o', so, '-shared', ...driverLinkFlags.filter((f) => !f.startsWith('-Wl,-u'))]);
    const d = await kernel().load(so);
    expect(d.state).toBe('running');
    expect(kernel().log().find((l) => l.text.includes(so))?.level).toBe(4); // a warning naming the file
    d.unload();
  });
});

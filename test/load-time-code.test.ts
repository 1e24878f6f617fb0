// Code that would run while a driver is opened or closed (constructors,
// destructors, DT_INIT, IFUNC resolvers; other libraries) runs in the host,
// outside any domain: the loader refuses it (ECTOR; ENEEDED), in every
// isolation mode. Each driver is built
// here with the real driver flags and crashes if its load-time code ever
// runs; each mode is tried in a child process, which must load them all,
// refused, and exit cleanly (a destructor would run at its exit).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';
import { driverPath, packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-ctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modes = ['none', 'mprotect', 'process', ...(Kernel.pkuSupported() ? ['pkey'] : [])];
const prelude = '#include <nooks/kapi.h>\n';
const okInit = 'static int ok_init(void) { return 0; }\nmodule_init(ok_init);\n';
const crash = '{ volatile int *volatile p = NULL; *p = 1; }';

// name -> [source, what the refusal must name, its code, extra link flags]
const drivers: Record<string, [string, RegExp, string?, string[]?]> = {
  ctor: [`__attribute__((constructor)) static void boom(void) ${crash}\n`, /constructors \(\.init_array \(DT_INIT_ARRAY\)\)/],
  dtor: [`__attribute__((destructor)) static void boom(void) ${crash}\n`, /destructors \(\.fini_array \(DT_FINI_ARRAY\)\)/],
  // ld makes a function named _init the object's DT_INIT
  init: [`void _init(void);\nvoid _init(void) ${crash}\n`, /constructors \(\.init \(DT_INIT\)\)/],
  ifunc: [
    'static long echo_impl(long x) { return x; }\n' +
      `static long (*resolve_echo(void))(long) { volatile int *volatile p = NULL; *p = 1; return echo_impl; }\n` +
      'NOOKS_EXPORT long echo(long x) __attribute__((ifunc("resolve_echo")));\n',
    /IFUNC, whose resolver would run in the host/,
  ],
  // a driver's own _init and _fini (DT_INIT, DT_FINI) are not cc's start files, which import crtbeginS.o's weak symbols
  initfini: [`void _init(void);\nvoid _init(void) ${crash}\nvoid _fini(void);\nvoid _fini(void) ${crash}\n`, /the driver has (constructors \(\.init \(DT_INIT\)\)|destructors \(\.fini \(DT_FINI\)\))/],
  // two kinds of load-time code: both named, not the first alone
  ctorIfunc: [
    `__attribute__((constructor)) static void boom(void) ${crash}\n` +
      'static long echo_impl(long x) { return x; }\n' +
      `static long (*resolve_echo(void))(long) { volatile int *volatile p = NULL; *p = 1; return echo_impl; }\n` +
      'NOOKS_EXPORT long echo(long x) __attribute__((ifunc("resolve_echo")));\n',
    /refused for 2 reasons:\n.*constructors \(\.init_array \(DT_INIT_ARRAY\)\).*\[ECTOR\]\n.*IFUNC, whose resolver would run in the host.*\[ECTOR\]$/,
  ],
  // another library, whose own constructors would run in the host
  needs: ['', /needs the shared library libm\.so\.6 \(DT_NEEDED\)/, 'ENEEDED', ['-Wl,--no-as-needed', '-lm']],
};
const paths: Record<string, string> = {};

beforeAll(() => {
  for (const [name, [source, , , ldflags]] of Object.entries(drivers)) paths[name] = buildDriver(dir, name, prelude + source + okInit, { extraLdflags: ldflags });
  writeFileSync(join(dir, 'all.list'), [...Object.values(paths), driverPath('null')].join('\n'));
}, 60_000);

describe('load-time code is refused', () => {
  for (const mode of modes) {
    it(`in isolation '${mode}': refused, naming the section and the file; the host runs on and exits cleanly`, async () => {
      const run = await runNode([join(packageRoot, 'test', 'helpers', 'load-each.mjs'), mode, join(dir, 'all.list'), 'nop'], packageRoot);
      const outcomes = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(run.signal, run.stderr).toBeNull();
      expect(run.code, run.stderr).toBe(0);
      for (const [name, [, names, code = 'ECTOR']] of Object.entries(drivers)) {
        const o = outcomes.find((x) => x.file === paths[name]);
        expect(o, name).toMatchObject({ code });
        expect(o.message).toContain(paths[name]);
        expect(o.message).toMatch(names);
      }
      // and a driver without such code still loads and runs in that mode
      expect(outcomes.find((x) => x.file === driverPath('null'))).toMatchObject({ loaded: true, result: '0' });
      expect(outcomes.at(-1)).toEqual({ done: true });
    });
  }
});

// Constructors and destructors of a driver built with the POSIX personality
// (native/driver-rt/posix/start.c, ctors.ld): C code written for the host
// registers itself with __attribute__((constructor)) (DPDK's drivers do), and
// the dynamic loader would run that code in the host at dlopen, outside any
// domain (load-time-code.test.ts: refused without the personality). Built with
// `nooks build --posix`, they run inside the domain instead: in priority
// order before module_init, at load and again at each restart (the driver's
// data is as loaded then), and the destructors after module_exit at unload,
// in reverse order, as glibc runs them. In every isolation mode of the
// default project ('process': they ran in the driver's host, where its data is).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Kernel, type Isolation } from '../lib/index.js';
import { applyFault, planFault } from '../lib/inject/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { faultOf, rejectionOf } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-ctors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const library = buildDriver(dir, 'ctors', `
#include <stdio.h>
#include <stdlib.h>

static int order[8], n;
static char *greeting;

__attribute__((constructor(200))) static void second(void) { order[n++] = 2; }
__attribute__((constructor)) static void third(void) { order[n++] = 3; greeting = malloc(32); snprintf(greeting, 32, "made by a constructor"); }
__attribute__((constructor(101))) static void first(void) { order[n++] = 1; }
__attribute__((destructor(101))) static void goes_last(void) { printf("destructor 101, last\\n"); }
__attribute__((destructor)) static void goes_first(void) { printf("destructor: %d constructors had run, %s\\n", n, greeting); }

static void handler_one(void) { printf("atexit handler 1\\n"); }
static void handler_two(void) { printf("atexit handler 2\\n"); }
/* Registers the two handlers (in a constructor they would be registered at every restart too). */
long register_handlers(void) { return atexit(handler_one) | atexit(handler_two); }
/* POSIX's ATEXIT_MAX is at least 32: how many more registrations were taken. */
long fill_handlers(void) { long n = 0; while (n < 100 && atexit(handler_one) == 0) n++; return n; }
void quit(void) { exit(4); }

/* The constructors that ran, in order, as digits. */
long ran(void) { long v = 0; for (int i = 0; i < n; i++) v = v * 10 + order[i]; return v; }
long crash(void) { volatile int *volatile p = 0; return *p; }
`, { posix: true });

// one with its own module_init, which sees the constructors' work done
const withInit = buildDriver(dir, 'ctors_init', `
#include <stdlib.h>
#include <nooks/kapi.h>
static int *table;
__attribute__((constructor)) static void make_table(void) { table = calloc(4, sizeof(*table)); }
static int start(void) { return table ? 0 : -22; }
module_init(start);
long table_ready(void) { return table != NULL; }
`, { posix: true });

// a constructor that faults: it is the load that fails, contained
const faulting = buildDriver(dir, 'ctor_faults', `
__attribute__((constructor)) static void boom(void) { volatile int *volatile p = 0; *p = 1; }
long nothing(void) { return 0; }
`, { posix: true });

// a module_init that faults after its constructor ran: named module_init, not the constructor
const initFaults = buildDriver(dir, 'init_faults', `
#include <nooks/kapi.h>
static int made;
__attribute__((constructor)) static void make(void) { made = 1; }
static int start(void) { volatile int *volatile p = 0; return *p + made; }
module_init(start);
`, { posix: true });

// a constructor that faults at a restart only: the test injects a persistent fault into it once loaded (a call
// into the runtime's fault helper, which the message names)
const restartFaults = buildDriver(dir, 'restart_faults', `
static int made;
__attribute__((constructor)) static void make(void) { made = 1; }
long crash(void) { volatile int *volatile p = 0; return *p + made; }
`, { posix: true });

// an atexit handler or a destructor that faults at unload, as armed
const exitFaults = buildDriver(dir, 'exit_faults', `
#include <stdlib.h>
static int destructor_faults;
static void faulting_handler(void) { volatile int *volatile p = 0; *p = 1; }
__attribute__((destructor)) static void faulting_destructor(void) { if (destructor_faults) { volatile int *volatile p = 0; *p = 1; } }
long arm_handler(void) { return atexit(faulting_handler); }
void arm_destructor(void) { destructor_faults = 1; }
`, { posix: true });

describe.each<Isolation>(['mprotect', 'process', 'none'])("a POSIX driver's constructors and destructors, isolation '%s'", (isolation) => {
  const contained = isolation !== 'none';
  let kernel: Kernel | undefined;
  afterEach(async () => {
    await kernel?.shutdown();
    kernel = undefined;
  });

  it('the constructors run in the domain before module_init, in priority order; the destructors after module_exit, in reverse', async () => {
    kernel = await Kernel.boot({ isolation });
    const drv = await kernel.load(library);
    expect(drv.call('ran')).toBe(123);
    expect(drv.objects().filter((o) => o.type === 'memory' && o.label === 'malloc')).toHaveLength(1); // the constructor's malloc
    // (the log may begin with what an earlier kernel of this process left unread: its shutdown ran these destructors)
    expect(drv.call('register_handlers')).toBe(0);
    const before = kernel.log().length;
    drv.unload();
    expect(kernel.log().slice(before).filter((l) => l.source === 'ctors').map((l) => l.text)).toEqual([
      'atexit handler 2',
      'atexit handler 1',
      'destructor: 3 constructors had run, made by a constructor',
      'destructor 101, last',
    ]);
    const other = await kernel.load(withInit);
    expect(other.call('table_ready')).toBe(1); // its module_init found the table (else the load had failed, -EINVAL)
  });

  it('at a restart the constructors run again, over the data as loaded', async () => {
    kernel = await Kernel.boot({ isolation });
    const drv = await kernel.load(library);
    if (contained) expect(faultOf(() => drv.call('crash')).kind).toBe('segv');
    else drv.recover(); // nothing is trapped under 'none'
    expect(drv.state).toBe('running');
    expect(drv.call('ran')).toBe(123); // not 123123: the data were reset, then the constructors ran once
  });

  if (contained) {
    it('exit() runs the atexit handlers and the destructors first, then fails the driver; a restart empties the table', async () => {
      kernel = await Kernel.boot({ isolation });
      const drv = await kernel.load(library);
      expect(drv.call('register_handlers')).toBe(0);
      const before = kernel.log().length;
      expect(faultOf(() => drv.call('quit'))).toMatchObject({ kind: 'exit', message: 'ctors: exit(4)' });
      expect(kernel.log().slice(before).filter((l) => l.source === 'ctors').map((l) => l.text).slice(0, 4)).toEqual([
        'atexit handler 2',
        'atexit handler 1',
        'destructor: 3 constructors had run, made by a constructor',
        'destructor 101, last',
      ]);
      expect(drv.state).toBe('running');
      expect(drv.call('fill_handlers')).toBe(32); // the restarted driver's table is empty: 32 fit, the 33rd is refused
    });

    // Before: 'module_exit faulted: ...' for both, though the driver has no module_exit.
    it('an atexit handler or a destructor that faults at unload: contained, and the log names which', async () => {
      kernel = await Kernel.boot({ isolation });
      for (const [arm, part, fn] of [['arm_handler', 'an atexit handler', 'faulting_handler'], ['arm_destructor', 'a destructor', 'faulting_destructor']]) {
        const drv = await kernel.load(exitFaults);
        drv.call(arm);
        drv.unload();
        expect(kernel.log().filter((l) => l.source === 'exit_faults').at(-1)).toMatchObject({
          level: 3, text: expect.stringMatching(new RegExp(`^${part} faulted: segmentation fault at address 0x0 in exit_faults\\.so:${fn}\\+0x[0-9a-f]+; unloaded anyway$`)),
        });
      }
    });

    // Before: 'module_init faulted: ...' for a constructor too.
    it('a constructor that faults fails the load, contained, naming a constructor and the fault', async () => {
      kernel = await Kernel.boot({ isolation });
      const e = await rejectionOf(kernel.load(faulting));
      const why = /a constructor faulted: segmentation fault at address 0x0 in ctor_faults\.so:boom\+0x[0-9a-f]+/;
      expect(e).toMatchObject({ code: 'EINITFAULT', message: expect.stringMatching(why) });
      expect(kernel.log().filter((l) => l.source === 'ctor_faults').at(-1)).toMatchObject({
        level: 3, text: expect.stringMatching(new RegExp(`^${why.source}; not loaded$`)), event: { kind: 'init-faulted', fault: 'segv' },
      });
      expect(kernel.driver('ctor_faults')).toBeUndefined();
      // module_init of a driver whose constructor ran is named module_init
      const init = await rejectionOf(kernel.load(initFaults));
      expect(init).toMatchObject({ code: 'EINITFAULT', message: expect.stringMatching(/: module_init faulted: segmentation fault at address 0x0 in init_faults\.so:/) }); // start, inlined in nooks_module_init
    });

    it.runIf(contained)('a constructor that faults at a restart fails the restart, naming a constructor', async () => {
      kernel = await Kernel.boot({ isolation });
      const drv = await kernel.load(restartFaults);
      applyFault(kernel, drv, planFault(restartFaults, { seed: 1, type: 'null-deref', fn: 'make', transient: false })); // kept across restarts
      expect(faultOf(() => drv.call('crash')).kind).toBe('segv');
      expect(kernel.events().find((e) => e.event === 'disabled')?.fault).toMatchObject({
        kind: 'recovery-failed', message: expect.stringMatching(/^restart_faults: restart failed: a constructor faulted: segmentation fault at address 0x[0-9a-f]+ in restart_faults\.so:/),
      });
    });
  }
});

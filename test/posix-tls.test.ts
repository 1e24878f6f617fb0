// A POSIX driver's thread-local storage (`__thread`, `_Thread_local`:
// native/driver-rt/posix/tls.c, <nooks/tls.h>), per driver thread and inside
// its domain, in each isolation mode the suite boots (pkey where the CPU has
// it: the QEMU guest, test/guest-pkey.test.ts): an initialised int and
// struct (.tdata) and a static array (.tbss, the local-dynamic model);
// threads each set their own and find them after a barrier; the host
// thread's calls keep theirs; a restart after a fault gives the initial
// values again. What would address the host thread's TLS is refused (ETLS):
// test/load-errors.test.ts.
import { describe, expect, it } from 'vitest';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, faultOf, until } from './helpers/util.js';

const path = fixtureDriver('posix-tls', { posix: true }); // test/fixtures/drivers/posix-tls.c

describe.each(bootableIsolations)("a POSIX driver's __thread variables, isolation '%s'", (isolation) => {
  const contained = isolation !== 'none';
  const kernel = kernelPerBlock({ isolation });

  it('start at their initial values on each thread, and keep each thread its own', async () => {
    const d = await kernel().load(path);
    expect(d.call('tls_initial')).toBe(0);
    expect(d.call('tls_set', 5)).toBe(0);
    expect(d.call('tls_check', 5)).toBe(0); // the host thread's next crossing
    expect(d.call('tls_threads', 8)).toBe(0); // each new thread starts from the initial values, not the host thread's
    expect(d.call('tls_check', 5)).toBe(0); // and left the host thread's alone
    d.unload();
  });

  // Under 'none' a fault ends the process, as without nooks: these exist only
  // where faults are contained.
  if (contained) {
    it('are their initial values again after a fault and a restart', async () => {
      const d = await kernel().load(path);
      expect(d.call('tls_set', 9)).toBe(0);
      const recovered = new Promise<{ fault?: { kind: string } }>((resolve) => kernel().once('recovered', resolve));
      expect(faultOf(() => d.call('crash', 8)).kind).toBe('segv');
      expect((await recovered).fault?.kind).toBe('segv');
      expect(d.call('tls_initial')).toBe(0);
      expect(d.call('tls_threads', 4)).toBe(0);
      d.unload();
    });

    it("__tls_get_addr asked for what is not the driver's own: an abort failure naming it, never another's memory", async () => {
      const d = await kernel().load(path);
      const module = /module (\d+), (\d+) bytes/;
      const other = faultOf(() => d.call('tls_bad_index', 0));
      expect(other.kind).toBe('abort');
      const [, own, bytes] = module.exec(other.message)!;
      expect(other.message).toBe(`${d.name}: __tls_get_addr: module ${Number(own) + 1}, offset 0 is not in the driver's thread-local storage (module ${own}, ${bytes} bytes)`);
      await until(() => d.state === 'running', 'the restart');
      const past = faultOf(() => d.call('tls_bad_index', 1));
      expect(past.message).toBe(`${d.name}: __tls_get_addr: module ${own}, offset ${bytes} is not in the driver's thread-local storage (module ${own}, ${bytes} bytes)`);
      d.unload();
    });
  }
});

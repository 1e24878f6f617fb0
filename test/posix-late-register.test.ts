// A kernel call left running by a recovery (test/posix-left-running.test.ts)
// that changes the kernel's state for its driver once it goes on must change
// nothing after the restart: the restarted driver's registrations and
// objects (at the same addresses, in the same domain) are its own. Here a
// driver thread's pci_register_driver, or pci_unregister_driver, is stalled
// in its wait for the bus's lock past the restart; when it goes on, the
// restarted driver registers the same struct pci_driver itself: it must
// find it not registered (before, the old thread had registered it for it:
// -EBUSY), and keep its registration (before, the old thread unregistered
// it) (docs/recovery.md, "A thread left running").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseStalledWaits, setTeardownWaits, stallNextWait } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, until } from './helpers/util.js';

const path = fixtureDriver('late-register', { posix: true }); // test/fixtures/drivers/late-register.c
const EBUSY = -16;

describe.each(bootableIsolations)('isolation %s: a bus call left running at a restart', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 10 } } });
  beforeAll(() => setTeardownWaits(200)); // the thread is left running within 0.4 s, not 10 s
  afterAll(() => setTeardownWaits());

  it.each([['registers', 0], ['unregisters', 1]] as const)('%s nothing for the restarted driver', async (_, unregister) => {
    const d = await kernel().load(path);
    const from = kernel().log().length;
    const lines = () => kernel().log().slice(from).map((l) => l.text);
    try {
      if (unregister) expect(d.call('register_now')).toBe(0); // what the thread unregisters
      stallNextWait(d);
      expect(d.call('spawn', unregister)).toBe(0);
      await until(() => lines().some((l) => l.includes(`${d.name}: test stall`)), 'the thread stalled in its wait for the bus');
      d.recover();
      expect(lines().filter((l) => l.includes('did not stop; left running'))).toHaveLength(1);
      if (unregister) expect(d.call('register_now')).toBe(0); // the restarted driver's own registration
      releaseStalledWaits();
      await until(() => lines().some((l) => l.includes('ended after being left running')), 'the end of the thread left running');
      expect(d.state).toBe('running');
      // Registered by the restarted driver (unregister), or by nobody: registered again, it is busy, or not.
      expect(d.call('register_now')).toBe(unregister ? EBUSY : 0);
    } finally {
      releaseStalledWaits();
      d.unload();
    }
  }, 30_000);
});

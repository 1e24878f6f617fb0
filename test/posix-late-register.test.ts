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
import { describe, expect, it } from 'vitest';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { leaveRunning, shortTeardownWaits } from './helpers/left-running.js';
import { bootableIsolations } from './helpers/util.js';

const path = fixtureDriver('late-register', { posix: true }); // test/fixtures/drivers/late-register.c
const EBUSY = -16;

describe.each(bootableIsolations)('isolation %s: a bus call left running at a restart', (isolation) => {
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 10 } } });
  shortTeardownWaits();

  it.each([['registers', 0], ['unregisters', 1]] as const)('%s nothing for the restarted driver', async (_, unregister) => {
    const d = await kernel().load(path);
    try {
      if (unregister) expect(d.call('register_now')).toBe(0); // what the thread unregisters
      await leaveRunning(kernel(), d, {
        start: () => expect(d.call('spawn', unregister)).toBe(0), // its wait for the bus's lock stalls
        left: () => {
          if (unregister) expect(d.call('register_now')).toBe(0); // the restarted driver's own registration
        },
      });
      expect(d.state).toBe('running');
      // Registered by the restarted driver (unregister), or by nobody: registered again, it is busy, or not.
      expect(d.call('register_now')).toBe(unregister ? EBUSY : 0);
    } finally {
      d.unload();
    }
  }, 30_000);
});

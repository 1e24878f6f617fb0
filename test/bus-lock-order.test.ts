// Lock order between the PCI bus lock and the mprotect lock: the bus lock
// comes first. Under 'mprotect' a driver thread inside a crossing holds the
// mprotect lock; when its PCI call (here pci_resource_len on the kernel
// worker) waits for the bus lock held by the JS thread adding a device, which
// waits for the mprotect lock to probe the driver, neither moves. The kernel
// runs in a child process: a deadlock there shows as this test's timeout,
// not as a hung test run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';

// A driver for the bus test device whose work item calls pci_resource_len in
// a loop (under mprotect about 50 us a call: most of the time the worker is
// inside a crossing), rescheduling itself until told to stop; probe makes bus
// calls too.
const hammer = `#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

static struct pci_dev *first;
static struct work_struct work;
static long stop, rounds, calls, probes, per_round;

static void hammer_fn(struct work_struct *w)
{
	long i;

	(void)w;
	for (i = 0; i < per_round; i++)
		calls += pci_resource_len(first, 0) == 4096;
	rounds++;
	msleep(1);	/* lets the JS thread in (the worker would take the mprotect lock right back) */
	if (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		schedule_work(&work);
}

static int hammer_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	(void)id;
	if (!first)
		first = pdev;
	pci_set_drvdata(pdev, pdev);
	probes += pci_get_drvdata(pdev) == pdev;
	return 0;
}

static void hammer_remove(struct pci_dev *pdev)
{
	pci_set_drvdata(pdev, NULL);
}

static const struct pci_device_id ids[] = {
	PCI_DEVICE(0x4e4b, 0x0001),
	{ 0, 0 },
};

static struct pci_driver hammer_driver = {
	.name = "hammer",
	.id_table = ids,
	.probe = hammer_probe,
	.remove = hammer_remove,
};

NOOKS_EXPORT long start(long n)
{
	per_round = n;
	__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
	schedule_work(&work);
	return 0;
}

NOOKS_EXPORT long halt(void)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	cancel_work_sync(&work);
	return calls;
}

NOOKS_EXPORT long rounds_done(void) { return __atomic_load_n(&rounds, __ATOMIC_ACQUIRE); }
NOOKS_EXPORT long probed(void) { return probes; }

static int hammer_init(void)
{
	INIT_WORK(&work, hammer_fn);
	return pci_register_driver(&hammer_driver);
}

static void hammer_exit(void)
{
	cancel_work_sync(&work);
	pci_unregister_driver(&hammer_driver);
}

module_init(hammer_init);
module_exit(hammer_exit);
`;

// A driver whose probe dereferences NULL: it runs nested in its init's
// pci_register_driver (the device is there first).
const badProbe = `#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

static int bad_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	(void)pdev;
	(void)id;
	return *(volatile int *)0;
}

static const struct pci_device_id ids[] = {
	PCI_DEVICE(0x4e4b, 0x0001),
	{ 0, 0 },
};

static struct pci_driver bad_driver = {
	.name = "badprobe",
	.id_table = ids,
	.probe = bad_probe,
};

static int bad_init(void) { return pci_register_driver(&bad_driver); }
static void bad_exit(void) { pci_unregister_driver(&bad_driver); }

module_init(bad_init);
module_exit(bad_exit);
`;

// Run in the child: the worker hammers the bus while this thread adds devices
// (each add probes the driver: bus lock, then a crossing).
const scenario = (lib: string, so: string, adds: number) => `
import { Kernel } from ${JSON.stringify(lib)};
const kernel = await Kernel.boot({ isolation: 'mprotect' });
kernel.addDevice('testdev');
const drv = await kernel.load(${JSON.stringify(so)}, { timeBudgetMs: 10_000 });
drv.call('start', 2_000);
while (Number(drv.call('rounds_done')) < 2) await new Promise((r) => setTimeout(r, 1));
for (let i = 0; i < ${adds}; i++) {
  kernel.addDevice('testdev');
  await new Promise((r) => setTimeout(r, 1));
}
const calls = Number(drv.call('halt'));
const result = { calls, probed: Number(drv.call('probed')), devices: kernel.devices().filter((d) => d.driver === drv.name).length,
  state: drv.state, events: kernel.events().length };
await kernel.shutdown();
console.log(JSON.stringify(result));
`;

describe("isolation 'mprotect': the bus lock and the mprotect lock", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nooks-bus-lock-'));
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // deadlocked: do not leave it behind
    child = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `script` in a kernel process of its own; its last stdout line, parsed. */
  const runScenario = (script: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (b) => (stdout += b));
      child.stderr!.on('data', (b) => (stderr += b));
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').pop()!)) : reject(new Error(`kernel process exited with ${code ?? signal}:\n${stderr}`)),
      );
    });
  const lib = pathToFileURL(join(packageRoot, 'dist', 'lib', 'index.js')).href;

  it('a driver thread in PCI calls while the JS thread adds devices: no deadlock', async () => {
    const so = buildDriver(dir, 'hammer', hammer);
    const adds = 30; // the bus has 32 lines for devices
    const r = await runScenario(scenario(lib, so, adds));
    expect(r).toMatchObject({ probed: adds + 1, devices: adds + 1, state: 'running', events: 0 });
    expect(r.calls).toBeGreaterThan(0);
  }, 20_000);

  it('a probe that faults inside pci_register_driver leaves the bus lock free for other threads', async () => {
    // The fault unwinds the JS thread to the driver's outermost entry (its
    // init), past the kernel call's frames: had the bus lock been held across
    // the probe, this thread would keep it, and the worker's PCI calls below
    // would wait for ever.
    const bad = buildDriver(dir, 'badprobe', badProbe);
    const so = buildDriver(dir, 'hammer', hammer);
    const r = await runScenario(`
import { Kernel } from ${JSON.stringify(lib)};
const kernel = await Kernel.boot({ isolation: 'mprotect' });
kernel.addDevice('testdev');
const failed = await kernel.load(${JSON.stringify(bad)}).then(() => 'loaded', (e) => e.code);
const drv = await kernel.load(${JSON.stringify(so)}, { timeBudgetMs: 10_000 });
drv.call('start', 10);
while (Number(drv.call('rounds_done')) < 3) await new Promise((r) => setTimeout(r, 1));
const calls = Number(drv.call('halt'));
await kernel.shutdown();
console.log(JSON.stringify({ failed, calls }));
`);
    expect(r).toMatchObject({ failed: 'EINITFAULT' });
    expect(r.calls).toBeGreaterThan(0);
  }, 20_000);
});

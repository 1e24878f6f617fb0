// Whose interrupt line a driver may request (native/dev/bus.cc,
// bus_line_requestable): a device's line only the driver that holds the
// device; another's is EINVAL with a log line, and the holder's handler keeps
// its interrupts. Lines below the devices' (software lines, the tests') stay
// anyone's. Two drivers, two devices, each driver holding one by the load
// option devices.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceInfo, Driver } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-irq-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#include <nooks/kapi.h>

static long runs;
static irqreturn_t on_irq(int irq, void *dev) { (void)irq; (void)dev; runs++; return IRQ_HANDLED; }

NOOKS_EXPORT long attach(long line) { return request_irq((unsigned)line, on_irq, 0, "lines", &runs); }
NOOKS_EXPORT long detach(long line) { free_irq((unsigned)line, &runs); return 0; }
NOOKS_EXPORT long handler_runs(void) { return runs; }
static int init(void) { return pci_get_held(NULL) ? 0 : -19; }
module_init(init);
`;
let owner = '', thief = '';
beforeAll(() => {
  owner = buildDriver(dir, 'owner', source);
  thief = buildDriver(dir, 'thief', source);
}, 120_000);

describe.each(bootableIsolations)("isolation %s: a device's interrupt line is its driver's", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  let mine: DeviceInfo, theirs: DeviceInfo;
  let a: Driver, b: Driver;

  beforeAll(async () => {
    mine = kernel().addDevice('testdev');
    theirs = kernel().addDevice('testdev');
    a = await kernel().load(owner, { devices: [mine.address] });
    b = await kernel().load(thief, { devices: [theirs.address] });
  });

  it("another device's line: EINVAL and a log line; its driver gets it and its interrupts", async () => {
    const from = kernel().log().length;
    expect(b.call('attach', mine.irq)).toBe(-22);
    expect(kernel().log().slice(from).filter((l) => l.source === b.name).map((l) => l.text))
      .toContainEqual(expect.stringContaining(`request_irq(${mine.irq}): not the line of a device the driver holds (EINVAL)`));
    expect(b.objects().filter((o) => o.type === 'irq')).toEqual([]);
    expect(a.call('attach', mine.irq)).toBe(0);
    expect(b.call('attach', theirs.irq)).toBe(0); // its own device's line
    expect(kernel().raiseIrq(mine.irq)).toBe(true);
    await until(() => Number(a.call('handler_runs')) === 1, "the owner's handler");
    expect(b.call('handler_runs')).toBe(0);
    a.call('detach', mine.irq);
    b.call('detach', theirs.irq);
  });

  it('a device line with no device on it is EINVAL; a software line (below the devices\') is anyone\'s', () => {
    expect(a.call('attach', 63)).toBe(-22);
    expect(a.call('attach', 7)).toBe(0);
    a.call('detach', 7);
  });
});

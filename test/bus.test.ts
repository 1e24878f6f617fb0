// The kernel's PCI bus with the bus test device (native/dev/testdev.cc) and
// its driver: probe and binding, register access through the kernel, DMA
// confined to the driver's DMA window, interrupts, and the driver bugs the
// bus must report and contain. Runs in the default isolation ('pkey' where it
// can run, so test/guest-pkey.test.ts runs it in its guest too).
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, type Driver } from '../lib/index.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf, logEvents, until, suiteIsolation } from './helpers/util.js';

describe('the PCI bus and an emulated device', () => {
  const kernel = kernelPerBlock({
    isolation: suiteIsolation,
    policy: { default: { ...defaultPolicy.default, maxFailures: 100, memLimitBytes: 16 << 20 }, drivers: new Map() },
  });
  let drv: Driver;
  const device = () => kernel().devices()[0];

  beforeAll(async () => {
    expect(kernel().addDevice('testdev')).toMatchObject({ name: 'testdev0', kind: 'testdev', vendor: 0x4e4b, device: 1, driver: null });
    drv = await kernel().load('testdev');
  });

  it('probes the driver for the device and tracks what probe took', () => {
    expect(drv.call('bound')).toBe(1);
    expect(device().driver).toBe('testdev');
    const types = drv.objects().map((o) => o.type).sort();
    expect(types).toEqual(['dma', 'iomap', 'irq', 'memory', 'pci_dev', 'pci_driver']);
  });

  it('reaches the registers through the kernel, and the device DMAs into the driver\'s memory', () => {
    expect(drv.call('scratch', 0x1234)).toBe(0x1234);
    expect(drv.call('dma_fill', 100, 3)).toBe(300); // the device wrote 100 bytes of 3
    expect(drv.call('dma_sum', 10, 7)).toBe(70); // the device read what the driver wrote
  });

  it('delivers the device\'s interrupts to the driver\'s handler', async () => {
    const before = Number(drv.call('irqs'));
    drv.call('dma_fill', 8, 1);
    await until(() => Number(drv.call('irqs')) > before, 'the DMA-done interrupt');
  });

  it('refuses a DMA outside the driver\'s DMA memory: a device error, nothing written', () => {
    const errors = device().errors;
    // another driver's idea of a bus address: nothing of testdev's there
    expect(Number(drv.call('dma_wild', 0x12345678)) & 2).toBe(2); // the device's error bit
    expect(device().errors).toBe(errors + 1);
    expect(logEvents(kernel(), 'device-error').at(-1)).toEqual({ kind: 'device-error', device: 'testdev0', dma: 'write', bytes: 64, address: '0x12345678' });
    expect(drv.state).toBe('running');
  });

  it('reports undefined registers and a second registration, and keeps going', () => {
    const errors = device().errors;
    expect(drv.call('undefined_register')).toBe(0xffffffff);
    expect(device().errors).toBe(errors + 2);
    expect(logEvents(kernel(), 'device-error').slice(-2)).toEqual(Array(2).fill({ kind: 'device-error', device: 'testdev0', register: 0x40, width: 4 }));
    expect(drv.call('register_twice')).toBe(-16); // -EBUSY
    expect(drv.call('scratch', 5)).toBe(5);
  });

  it('after a failure the device is reset and probed again by the restarted driver', () => {
    drv.call('scratch', 77);
    drv.recover();
    expect(drv.state).toBe('running');
    expect(device().driver).toBe('testdev');
    expect(drv.call('scratch', 0)).toBe(0);
    expect(drv.call('dma_fill', 16, 2)).toBe(32);
  });

  it('a bad free_irq is a bad call, and the interrupt line works again after the restart', async () => {
    const f = faultOf(() => drv.call('free_irq_wrong_dev'));
    expect(f.kind).toBe('bad-call');
    expect(f.message).toContain('free_irq(32)'); // names the call it refused
    expect(drv.state).toBe('running');
    const before = Number(drv.call('irqs'));
    drv.call('dma_fill', 8, 1);
    await until(() => Number(drv.call('irqs')) > before, 'an interrupt after the restart');
  });

  it('an interrupt with no handler is reported once, not delivered', () => {
    drv.call('raise_unhandled');
    expect(logEvents(kernel(), 'irq-unhandled')).toEqual([{ kind: 'irq-unhandled', device: 'testdev0', irq: device().irq }]);
  });

  it('unloading unbinds the device; unknown kinds are refused', () => {
    drv.unload();
    expect(device().driver).toBeNull();
    expect(() => kernel().addDevice('nosuch')).toThrow(/unknown device kind 'nosuch' \(known: .*testdev/);
  });
});

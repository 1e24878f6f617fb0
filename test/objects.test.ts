// Kernel objects a well-behaved driver holds, and the services behind them:
// ticker's timer, work, interrupt line 5, heap and DMA, and printk.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { until } from './helpers/util.js';

const IRQ = 5;

describe('ticker', () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let ticker: Driver;

  beforeAll(async () => {
    ticker = await kernel().load('ticker');
  });

  const count = (fn: string) => Number(ticker.call(fn));

  it('holds exactly one timer, work item, irq line and heap block after init', () => {
    const objects = ticker.objects();
    expect(objects.map((o) => o.type).sort()).toEqual(['irq', 'memory', 'timer', 'work']);
    expect(objects.find((o) => o.type === 'irq')).toMatchObject({ address: String(IRQ), label: 'ticker' });
    expect(objects.find((o) => o.type === 'memory')).toMatchObject({ label: 'kmalloc' });
    expect(objects.find((o) => o.type === 'memory')!.address).toMatch(/^0x[0-9a-f]+$/);
    expect(kernel().domains().find((d) => d.name === 'ticker')!.objects).toBe(4);
  });

  it('its timer and work item run on the kernel threads', async () => {
    await until(() => count('ticks') >= 10 && count('works') >= 2, 'ticks and work runs');
  });

  it('raiseIrq(5) runs its interrupt handler', async () => {
    expect(count('irqs')).toBe(0); // nothing raised the line yet
    for (let i = 1; i <= 3; i++) {
      expect(kernel().raiseIrq(IRQ)).toBe(true);
      // the handler runs on the line's thread: wait for each before raising again (raises coalesce)
      await until(() => count('irqs') === i, `interrupt ${i}`);
    }
    expect(kernel().raiseIrq(IRQ + 1)).toBe(false); // no handler on line 6
  });

  it('fill_dma allocates one DMA page on first use', () => {
    expect(ticker.objects().filter((o) => o.type === 'dma')).toEqual([]);
    // sum of (i * 7 + 1) for i < 16
    expect(ticker.call('fill_dma', 16)).toBe(856);
    expect(ticker.call('fill_dma', 16)).toBe(856);
    const dma = ticker.objects().filter((o) => o.type === 'dma');
    expect(dma).toEqual([expect.objectContaining({ size: 4096, label: 'dma_alloc_coherent' })]);
    expect(ticker.call('fill_dma', 4097)).toBe(-22); // -EINVAL, not a fault
  });

  it("print_hello's line reaches the kernel log, from ticker at KERN_INFO", () => {
    expect(ticker.call('print_hello')).toBe(20); // "<6>ticker: hello 42\n"
    expect(kernel().log()).toContainEqual({ level: 6, source: 'ticker', text: 'ticker: hello 42' });
  });

  it('unload releases everything: the domain, the irq line, the timer', async () => {
    ticker.unload();
    expect(kernel().domains().map((d) => d.name)).not.toContain('ticker');
    expect(kernel().driver('ticker')).toBeUndefined();
    expect(() => ticker.objects()).toThrow(/^ticker: the driver was unloaded \[EUNLOADED\]$/); // a stale handle
    expect(kernel().raiseIrq(IRQ)).toBe(false);

    // line 5 is free again: a fresh ticker can request it, and starts from zero
    ticker = await kernel().load('ticker');
    expect(ticker.objects().find((o) => o.type === 'irq')?.address).toBe(String(IRQ));
    expect(count('irqs')).toBe(0);
    expect(kernel().raiseIrq(IRQ)).toBe(true);
    await until(() => count('irqs') === 1, 'the interrupt on the reloaded ticker');
  });
});

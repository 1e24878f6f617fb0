// Under 'mprotect' one thread runs driver code at a time. A driver that spins
// until the watchdog ends it makes the others wait for that long: the wait is
// not theirs, so the watchdog must not end them for it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { faultOf, until } from './helpers/util.js';

describe("isolation 'mprotect': the watchdog blames only the driver that spins", () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let ticker: Driver;
  let crashy: Driver;

  beforeAll(async () => {
    // ticker's budget is well below crashy's: its 10 ms timer fires while crashy spins
    ticker = await kernel().load('ticker', { timeBudgetMs: 100 });
    crashy = await kernel().load('crashy', { timeBudgetMs: 500 });
  });

  it('ticker is not failed while it waits for crashy to be ended', async () => {
    await until(() => Number(ticker.call('ticks')) >= 3, 'ticker to tick');
    const ticks = Number(ticker.call('ticks'));
    expect(faultOf(() => crashy.call('infinite_loop')).kind).toBe('timeout');
    // Two ticks past crashy's end: a ticker thread the watchdog had asked to leave would have left at its first, and
    // failed the driver (its count then starts again), so either its fault is reported or it was not blamed.
    const ended = Number(ticker.call('ticks'));
    await until(() => kernel().events().some((e) => e.driver === 'ticker') || Number(ticker.call('ticks')) >= ended + 2, 'two ticks more, or a fault of ticker');

    const blamed = kernel().events().filter((e) => e.driver === 'ticker');
    expect(blamed.map((e) => `${e.event}: ${e.fault?.kind} ${e.fault?.message}`)).toEqual([]);
    expect(ticker.state).toBe('running');
    expect(kernel().domains().find((d) => d.name === 'ticker')!.recoveries).toBe(0);
    // asked to leave once: crashy's thread, not ticker's (domains(): the watchdog's requests)
    expect(kernel().domains().map((d) => [d.name, d.timeouts])).toEqual([['ticker', 0], ['crashy', 1]]);
    // not restarted: the count went on from where it was
    expect(Number(ticker.call('ticks'))).toBeGreaterThan(ticks);
  });
});

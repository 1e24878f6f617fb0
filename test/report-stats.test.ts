// The report's statistics against published values: the Wilson score
// intervals of Newcombe (Statistics in Medicine 17, 1998, Table I, method 3).
import { describe, expect, it } from 'vitest';
import { MAX_COMPARABLE_WIDTH_PP, rate, rateText, wilson } from '../lib/report/stats.js';

describe('wilson', () => {
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
  ])('%i of %i: %f to %f (Newcombe 1998)', (k, n, low, high) => {
    const i = wilson(k, n);
    expect(i.low).toBeCloseTo(low, 4);
    expect(i.high).toBeCloseTo(high, 4);
  });

  it('none of 4 reaches half: z²/(n+z²)', () => {
    const z2 = 1.959963984540054 ** 2;
    expect(wilson(0, 4).low).toBe(0);
    expect(wilson(0, 4).high).toBeCloseTo(z2 / (4 + z2), 12);
  });

  it('an empty sample says nothing: [0, 1]', () => expect(wilson(0, 0)).toEqual({ low: 0, high: 1 }));

  it.each([[5, 4], [-1, 4], [1.5, 4], [0, -1]])('refuses %d of %d', (k, n) => expect(() => wilson(k, n)).toThrow(/\[EINVAL\].*of/));
});

describe('rate', () => {
  it('a quick campaign (4 trials) is too few to compare, whatever it found', () => {
    expect(rate(0, 4).tooFew).toBe(true);
    expect(rate(2, 4).tooFew).toBe(true);
    expect(rateText(rate(0, 4))).toBe('0 % (0/4; 95 % CI 0–49 %; too few trials to compare)');
  });

  it(`100 trials keep the interval within ${MAX_COMPARABLE_WIDTH_PP} points even at 50 %`, () => {
    expect(rate(50, 100).tooFew).toBe(false);
    expect(rateText(rate(50, 100))).toBe('50 % (50/100; 95 % CI 40.4–59.6 %)');
  });

  it('the Nooks paper\'s crashes (317 of 2000) are comparable', () => {
    expect(rateText(rate(317, 2000))).toBe('15.9 % (317/2000; 95 % CI 14.3–17.5 %)');
    expect(rateText(rate(4, 2000))).toBe('0.2 % (4/2000; 95 % CI 0.1–0.5 %)');
  });
});

// Rates as the report states them: a count out of a sample, with the 95 %
// Wilson score interval around it (sound at 0 and at n, unlike p ± 1.96·se),
// and whether the sample is too small for the rate to be compared with any other.

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/**
 * Widest 95 % interval (in percentage points) at which a rate is still worth
 * comparing: 20 points needs about 100 trials at 50 % (its widest), about 20
 * at 0 %. Wider than that, the page says "too few trials to compare".
 */
export const MAX_COMPARABLE_WIDTH_PP = 20;

export interface Interval {
  low: number;
  high: number;
}

/** The Wilson score interval for k successes in n trials, as fractions in [0, 1]; [0, 1] when n is 0. */
export function wilson(k: number, n: number): Interval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 0 || k < 0 || k > n) throw new RangeError(`[EINVAL] wilson: ${k} of ${n} is not a count out of a sample`);
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z = Z95;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // clamped: at k = 0 or k = n the bound is exactly 0 or 1, up to rounding
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface Rate extends Interval {
  k: number;
  n: number;
  /** k / n (0 when n is 0). */
  p: number;
  /** The interval is wider than MAX_COMPARABLE_WIDTH_PP: the rate says little (not said of 0 of 0, which says nothing: NO_FAILURES). */
  tooFew: boolean;
}

export function rate(k: number, n: number): Rate {
  const { low, high } = wilson(k, n);
  return { k, n, p: n ? k / n : 0, low, high, tooFew: n > 0 && (high - low) * 100 > MAX_COMPARABLE_WIDTH_PP };
}

/** 0 of 0: a share of the failures where none showed (the report's only empty sample), no rate at all: `-`, as the campaign command prints it. */
export const NO_FAILURES = '- (0/0: no failures)';

/**
 * A fraction as a percentage for the page, to one decimal (none when it is
 * whole), halves rounded up as the papers did (317/2000: 15.9 %, where
 * toFixed gives 15.8 from the binary 0.15849999…).
 */
export const percent = (x: number): string => `${Math.round(x * 1000 + 1e-9) / 10}`;

export const TOO_FEW = 'too few trials to compare';

/** `0 % (0/4; 95 % CI 0–49 %; too few trials to compare)`; NO_FAILURES for 0 of 0. */
export function rateText(r: Rate): string {
  if (r.n === 0) return NO_FAILURES;
  return `${percent(r.p)} % (${r.k}/${r.n}; 95 % CI ${percent(r.low)}–${percent(r.high)} %${r.tooFew ? `; ${TOO_FEW}` : ''})`;
}

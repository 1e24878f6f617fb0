// The report's statistics against published values: the Wilson score
// intervals of Newcombe (Statistics in Medicine 17, 1998, Table I, method 3);
// and the campaign's shares, of the same trials in the report and the command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../lib/experiments/campaign.js';
import { planIdentity, planTrials } from '../lib/experiments/plan.js';
import { faultTypes, plannerVersion } from '../lib/inject/index.js';
import { detectedBeforeVerdictRates, failureRates, shadowAppRates, shadowAppsChart } from '../lib/report/charts.js';
import { MAX_COMPARABLE_WIDTH_PP, rate, rateText, wilson } from '../lib/report/stats.js';
import { nooks } from './helpers/cli.js';

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

describe('detected and recovered: of the failures, in the report and the campaign command alike', () => {
  // one application under mprotect+shadow, 5 trials: 4 failures shown, 2 of them detected, 1 of those recovered
  const plan = planIdentity({ planner: plannerVersion, targets: [{ app: 'db', driver: 'blk', driverSha256: '0' }], seed: 1, type: 'any', transient: true, trials: 5, modes: ['mprotect+shadow'] });
  const shown = [[true, true, true], [true, true, false], [true, false, false], [true, false, false], [false, false, false]];
  const records = planTrials(plan).map((t, i): TrialRecord => {
    const [failure, detected, recovered] = shown[i];
    return {
      key: t.key, plan: plan.id, app: 'db', driver: 'blk', mode: t.mode, index: t.index, seed: t.seed, fault: { kind: 'targeted', type: faultTypes[0], site: { function: 'f' }, transient: true },
      failure, hostCrashed: false, detected, detectors: detected ? ['trap'] : [], recovered, outcome: failure ? 'malfunction' : 'continued', ms: 1,
    };
  });

  /** `nooks campaign merge` of a file of `trials` of the plan, with `flags`. */
  async function merged(trials: TrialRecord[], ...flags: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'nooks-shares-'));
    try {
      const file = join(dir, 'c.jsonl');
      writeFileSync(file, [{ plan }, ...trials].map((l) => JSON.stringify(l)).join('\n'));
      return await nooks(['campaign', 'merge', file, ...flags]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('as the shadow-driver paper counts them (Figure 7: "the percentage of failures that are automatically detected")', async () => {
    const bars = shadowAppRates(records);
    expect(bars.map((b) => [b.y, b.k, b.n])).toEqual([['failures shown (of trials)', 4, 5], ['detected (of failures)', 2, 4], ['recovered (of failures)', 1, 4]]);
    expect(failureRates(records)[0].rates.map((r) => [r.k, r.n])).toEqual([[4, 5], [2, 4], [1, 4], [1, 5]]);
    // the campaign command's table of the same file says the same
    const r = await merged(records);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/application +failures shown \(of trials\) +detected \(of failures\) +recovered \(of failures\) +app continued \(of trials\)/);
    expect(r.stdout).toMatch(/db +80% \(4\/5\) +50% \(2\/4\) +25% \(1\/4\) +20% \(1\/5\)/);
  });

  it('detected before the verdict: a share of the detected trials that record it, beside detected, which it leaves as it was', async () => {
    // the two detected trials: one seen while the application worked, one only at the unload after its verdict
    const marked = records.map((r, i): TrialRecord => (i < 2 ? { ...r, detectedBeforeVerdict: i === 0 } : r));
    expect(detectedBeforeVerdictRates(marked).map(({ mode, rate: r }) => [mode, r.k, r.n])).toEqual([['mprotect+shadow', 1, 2]]);
    expect(failureRates(marked)).toEqual(failureRates(records));
    // a file from before it was kept: no share, not a 0 % one
    expect(detectedBeforeVerdictRates(records).map(({ rate: r }) => [r.k, r.n])).toEqual([[0, 0]]);
    // the campaign command's mode table and --json summary count it too (before: only the report had it)
    const text = await merged(marked);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/mode +trials +host crashes +failures shown +detected +before verdict +recovered +app continued/);
    expect(text.stdout).toMatch(/mprotect\+shadow +5 +0 +4 +2 +1 +1 +1 +-/);
    expect(JSON.parse((await merged(marked, '--json')).stdout).byMode['mprotect+shadow']).toMatchObject({ detected: 2, detectedBeforeVerdict: 1, detectedBeforeVerdictOf: 2 });
  });

  // Before: the summary counted an old file's detected trials as not before the verdict ("2 detected, 0 before
  // verdict": 0 %), where the report leaves them out (no share, "-").
  it('an old file\'s detected trials, which do not record it, count in neither part, in the summary as in the report', async () => {
    const half = records.map((r, i): TrialRecord => (i === 0 ? { ...r, detectedBeforeVerdict: true } : r)); // resumed: one new trial
    for (const [file, k, n, cell] of [[records, 0, 0, '-'], [half, 1, 1, '1 of 1']] as const) {
      expect(detectedBeforeVerdictRates([...file]).map(({ rate: r }) => [r.k, r.n])).toEqual([[k, n]]);
      expect(JSON.parse((await merged([...file], '--json')).stdout).byMode['mprotect+shadow'])
        .toMatchObject({ detected: 2, detectedBeforeVerdict: k, detectedBeforeVerdictOf: n });
      const text = await merged([...file]);
      expect(text.stdout).toMatch(new RegExp(`^ *mprotect\\+shadow +5 +0 +4 +2 +${cell} +1 +1 +-$`, 'm'));
    }
  });

  // Before, 0 of 0 was a faded "0 %" bar from 0 to 100 % in the report, where the campaign command prints "-"
  it('where no failure showed, detected and recovered are no rate: "-" and no bar, as the campaign command prints them', () => {
    const clean = records.map((r): TrialRecord => ({ ...r, failure: false, detected: false, detectors: [], recovered: false, outcome: 'continued' }));
    const [, detected] = shadowAppRates(clean);
    expect([detected.k, detected.n, detected.tooFew]).toEqual([0, 0, false]);
    expect(rateText(detected)).toBe('- (0/0: no failures)');
    const chart = shadowAppsChart(clean);
    expect(chart.match(/- \(0\/0: no failures\)/g)).toHaveLength(2);
    expect(chart).not.toContain('0 % (0/0)');
  });
});

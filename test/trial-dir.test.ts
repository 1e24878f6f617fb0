// A trial's directory (its application's files: the disk image, the played
// sound) is made and removed by the parent that runs the trial's process
// (lib/experiments/child.ts), whatever way that process ends. Before, the trial
// process made it and removed it in a `finally` that never ran when the
// process died: a fault without isolation, a kill at the trial's time limit.
// Each left an empty nooks-trial-* behind in the temporary directory (some
// 390 of them on a machine that ran the tests). Here the trials' TMPDIR is a
// directory of this file's own, looked at after each.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCampaign } from '../lib/experiments/campaign.js';
import { runTrialChild } from '../lib/experiments/child.js';
import { planFault } from '../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-trial-dir-'));
const saved = process.env.TMPDIR;
beforeAll(() => {
  process.env.TMPDIR = dir; // tmpdir() here, where the trials' directories are made, and in the trials' processes
});
afterAll(() => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** The trial directories left in the trials' TMPDIR. */
const left = () => readdirSync(dir).filter((n) => n.startsWith('nooks-trial-'));

it('a campaign whose trials end their process (a fault without isolation) leaves no trial directory', async () => {
  const before = left();
  const { records } = await runCampaign({ apps: ['db', 'echo'], trials: 1, type: 'null-deref', seed: 5, modes: [{ name: 'none', isolation: 'none', shadow: false }] });
  expect(records.map((r) => [r.app, r.hostCrashed])).toEqual([['db', true], ['echo', true]]);
  expect(left()).toEqual(before); // before: one more nooks-trial-* for each trial
}, 60_000);

it('a trial killed at its time limit leaves no trial directory', async () => {
  const before = left();
  const workload = join(dir, 'endless.mjs');
  writeFileSync(workload, 'export default () => new Promise(() => {});\n'); // never judged: the limit ends it
  const fault = planFault('crashy', { seed: 1, type: 'nop', fn: 'timer_forgotten', exported: true }); // in a function never called
  const r = await runTrialChild({
    app: 'endless', isolation: 'none', shadow: false, seed: 1, fault,
    workload: { driver: 'crashy', module: workload, index: 0, mode: 'none' },
  }, 2000);
  // killed at the limit: of the application's start, or of start-up (a loaded machine), or silent meanwhile
  expect(r.detail).toMatch(/^(no result within 2000 ms of (the application's start|start-up): stalled|the process hung)/);
  expect(left()).toEqual(before); // before: its nooks-trial-* besides
}, 30_000);

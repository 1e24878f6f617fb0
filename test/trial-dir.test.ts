// A trial's directory (its application's files: the disk image, the played
// sound) is made and removed by the parent that runs the trial's process
// (lib/experiments/child.ts), whatever way that process ends. Before, the trial
// process made it and removed it in a `finally` that never ran when the
// process died: a fault without isolation, a kill at the trial's time limit.
// Each left an empty nooks-trial-* behind in the temporary directory (some
// 390 of them on a machine that ran the tests). Here the trials' TMPDIR is a
// directory of this file's own, looked at after each.
import { chmodSync, copyFileSync, linkSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCampaign } from '../lib/experiments/campaign.js';
import { runTrialChild } from '../lib/experiments/child.js';
import { planFault } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { runProgram } from './helpers/util.js';

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

// Before: the trial's spawn had no 'error' listener: node's program gone under a running campaign (an upgrade, a
// removed install) made the next spawn's ENOENT an uncaught exception, which ended the campaign's process (exit
// status 1, "Unhandled 'error' event") and left the trial's directory behind. And a spawn that throws (node's new
// program still being written at its path: ETXTBSY) rejected with its bare error ("ETXTBSY spawn ETXTBSY"), not as a
// trial not set up, and left the directory behind. Here a node of this test's own, a link to this one's program,
// removes itself (and starts writing a new one at its path), then runs a trial.
it.each([
  ['ENOENT', ''],
  ['ETXTBSY', 'openSync(process.execPath, "w", 0o755); // an install writing it: still open for writing'],
])('a trial whose process cannot be started (%s) rejects as a trial not set up, naming the error, and leaves no trial directory', async (code, replace) => {
  const before = left();
  const node = join(dir, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node); // another file system
    chmodSync(node, 0o755);
  }
  const child = pathToFileURL(join(packageRoot, 'dist', 'lib', 'experiments', 'child.js')).href;
  const script = `import { openSync, unlinkSync } from 'node:fs';
    const { runTrialChild } = await import(${JSON.stringify(child)});
    unlinkSync(process.execPath);
    ${replace}
    const spec = { app: 'echo', isolation: 'none', shadow: false, seed: 1, fault: {} }; // never run
    await runTrialChild(spec, 5000).then((r) => console.log('resolved', r.detail), (e) => console.log(e.code, e.message));`;
  const r = await runProgram(node, ['--input-type=module', '-e', script], dir, 20_000);
  rmSync(node, { force: true });
  expect(r).toMatchObject({ code: 0, stderr: '', stdout: `${code} the trial could not be set up: spawn ${code === 'ENOENT' ? `${node} ` : ''}${code}\n` });
  expect(left()).toEqual(before);
});

// A small fault-injection campaign through the command line: every trial in
// a child process, one JSON line each; interrupted, it resumes without
// running a trial twice; the summary adds up to the lines.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectorsOf, type CampaignSummary, type PlanHeader, type TrialRecord } from '../lib/experiments/campaign.js';
import { faultKinds } from '../lib/wrappers/enums.js';
import { cli } from './helpers/cli.js';
import { jsonLines, trialRecords } from './helpers/data.js';
import { runNode, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-campaign-'));
const out = join(dir, 'results.jsonl');
// the drivers' own null-dereference hooks: a failure on the path each application uses
const args = [cli, 'campaign', '--trials', '1', '--type', 'null-deref', '--seed', '5', '--out', out];
// the trials, after the plan's header
const lines = (): TrialRecord[] => trialRecords(out);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nooks campaign', () => {
  it('records every trial, resumes after an interruption without redoing any, and sums them up', async () => {
    // interrupted after three trials
    const child = spawn(process.execPath, args, { cwd: dir, stdio: 'ignore' });
    await until(() => {
      try {
        return lines().length >= 3;
      } catch {
        return false;
      }
    }, 'three trials in the results file', 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const before = lines();
    expect(before.length).toBeLessThan(12);

    const r = await runNode([...args, '--json'], dir, 60_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as CampaignSummary;
    const all = lines();
    // four applications x one fault x every mode (none, mprotect, mprotect+shadow; pkey where the CPU has it; process, process+shadow)
    const modes = Object.keys(summary.byMode);
    expect(modes.slice(0, 3)).toEqual(['none', 'mprotect', 'mprotect+shadow']);
    expect(modes.slice(-2)).toEqual(['process', 'process+shadow']);
    expect(all).toHaveLength(4 * modes.length);
    expect(all.slice(0, before.length)).toEqual(before); // what was there stays, and is not run again
    expect(new Set(all.map((x) => x.key)).size).toBe(all.length);
    expect(summary.trials).toBe(all.length);
    // the plan, once, first: what every trial names
    const [header, ...rest] = jsonLines<TrialRecord | PlanHeader>(out);
    expect(header).toMatchObject({ plan: { seed: 5, type: 'null-deref', transient: true, trials: 1, modes } });
    expect(rest.filter((l) => 'plan' in l && typeof l.plan === 'object')).toEqual([]);
    for (const x of all) expect(x.plan).toBe((header as PlanHeader).plan.id);
    expect((header as PlanHeader).plan.targets.map((t) => [t.app, t.driver])).toEqual([['db', 'blk'], ['echo', 'uart16550'], ['player', 'pcm'], ['net-transfer', 'e1000']]);

    for (const m of modes) {
      const rs = all.filter((x) => x.mode === m);
      const s = summary.byMode[m];
      const times = rs.flatMap((x) => x.recoveryMs!).sort((a, b) => a - b);
      expect(s).toEqual({
        trials: rs.length,
        hostCrashes: rs.filter((x) => x.hostCrashed).length,
        visibleFailures: rs.filter((x) => x.failure).length,
        detected: rs.filter((x) => x.detected).length,
        detectedBeforeVerdict: rs.filter((x) => x.detected && x.detectedBeforeVerdict).length,
        detectedBeforeVerdictOf: rs.filter((x) => x.detected && x.detectedBeforeVerdict !== undefined).length,
        recovered: rs.filter((x) => x.recovered).length,
        appContinued: rs.filter((x) => x.outcome === 'continued').length,
        ...(times.length ? { recoveryTime: { recoveries: times.length, medianMs: times[times.length >> 1], maxMs: times.at(-1) } } : {}),
      });
      expect(s.recovered).toBeLessThanOrEqual(s.detected);
      expect(s.detected).toBeLessThanOrEqual(s.visibleFailures);
    }
    for (const x of all) {
      expect(x.fault.type).toBe('null-deref');
      expect(x.fault.hook).toMatch(/^crash_/);
      if (x.mode !== 'none') expect(x.hostCrashed, `${x.app} ${x.mode}: ${x.detail}`).toBe(false);
      if (x.detected) expect(x.detectors).toContain('trap');
      if (x.recovered) expect(x.recoveryMs!.length, `${x.app} ${x.mode}`).toBeGreaterThan(0);
    }
    // without isolation a NULL dereference the application reaches takes the process down: observed, not suffered
    expect(all.filter((x) => x.mode === 'none' && x.hostCrashed).map((x) => x.detail)).toContain('the process died of SIGSEGV');
    expect(summary.byMode['mprotect+shadow'].detected).toBeGreaterThan(0);
  }, 90_000);

  it('counts every way a driver can fail as detected, by its detector: a POSIX driver\'s exit and abort too', () => {
    // 'aborted' is no detection: a thread sent out of a driver that failed otherwise, or an explicit recovery
    const undetected = faultKinds.filter((k) => k !== 'none' && k !== 'aborted' && detectorsOf([k]).length === 0);
    expect(undetected).toEqual([]);
    expect(detectorsOf(['exit', 'abort', 'segv'])).toEqual(['exit', 'trap']);
    expect(detectorsOf(['aborted'])).toEqual([]);
  });
});


// Fault injection on a user's own driver: a driver built outside drivers/
// (with the flags the in-tree drivers get) and a workload module that judges
// each trial; `nooks inject` and a campaign on it, as JSON lines. Then the
// same campaign as two shards, merged: the same trials as unsharded, and merge
// refusing a gap, a duplicate, a shard of another plan and one planned by an
// older fault planner (which a resumed campaign refuses too, unless --fresh;
// fault planner 2's trials ran the fault otherwise).
// A workload's printed lines are its output, never the trial's own (on fd 3).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptCampaign, type CampaignSummary, type PlanHeader, type TrialRecord } from '../lib/experiments/campaign.js';
import { fileSha256, planIdentity } from '../lib/experiments/plan.js';
import { Kernel, planFault, type InjectedFault } from '../lib/index.js';
import { buildDriver, fixtureDriver } from './helpers/build-driver.js';
import { nooks as run } from './helpers/cli.js';
import { jsonLines, trialRecords } from './helpers/data.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-user-campaign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const nooks = (args: string[], timeoutMs = 30_000) => run(args, { cwd: dir, timeoutMs });

// kv_put and kv_get are what the workload calls; slot() is on both their paths, kv_init (in nooks_module_init) runs at load and recovery
const so = buildDriver(dir, 'kv', `
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

#define SLOTS 16

static long *table;

static __attribute__((noinline)) long *slot(long key)
{
	return &table[(unsigned long)key % SLOTS];
}

NOOKS_EXPORT long kv_put(long key, long value)
{
	*slot(key) = value;
	return 0;
}

NOOKS_EXPORT long kv_get(long key)
{
	return *slot(key);
}

static int kv_init(void)
{
	table = kzalloc(SLOTS * sizeof(*table), GFP_KERNEL);
	return table ? 0 : -ENOMEM;
}

module_init(kv_init);
`);

// Puts 16 keys and reads them back; after a driver failure nooks restarts the
// driver (its table empty again), so the work starts over, once.
const workload = join(dir, 'kv-workload.mjs');
writeFileSync(workload, `
export default async function workload({ driver, trial, seed }) {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      for (let k = 0; k < 16; k++) driver.call('kv_put', k, seed + k + trial.index);
      for (let k = 0; k < 16; k++) {
        if (driver.call('kv_get', k) !== seed + k + trial.index) return { ok: false, detail: 'key ' + k + ' read back wrong' };
      }
      return true;
    } catch (e) {
      if (attempt === 1 || e.name !== 'DriverFault') throw e;
      while (driver.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    }
  }
}
`);
// the same work without a second attempt: the DriverFault it meets is its verdict
const strict = join(dir, 'kv-strict.mjs');
writeFileSync(strict, `
export default function workload({ driver }) {
  driver.call('kv_put', 1, 2);
  return driver.call('kv_get', 1) === 2;
}
`);

interface InjectResult {
  fault: InjectedFault;
  app: string;
  outcome: string;
  hostCrashed: boolean;
  faultKinds: string[];
  faultKindsBeforeVerdict: string[];
  recoveryMs: number[];
  detail?: string;
}

const headersOf = (file: string) => jsonLines<PlanHeader | TrialRecord>(file).filter((l): l is PlanHeader => 'plan' in l && typeof l.plan === 'object');
/** What a trial is and how it ended, apart from its timing. */
const trialOf = (r: TrialRecord) => JSON.stringify([r.key, r.plan, r.seed, r.mode, r.fault, r.outcome, r.hostCrashed, r.detected, r.recovered]);

const campaignArgs = ['campaign', '--driver', so, '--workload', workload, '--trials', '10', '--type', 'null-deref', '--seed', '1', '--jobs', '2'];
const whole = join(dir, 'whole.jsonl');

describe('nooks inject and campaign on a user\'s driver', () => {
  it('a NULL dereference on the workload\'s path: the host dies without isolation; under mprotect it is recovered and the work verified', async () => {
    const [none, mprotect, strictRun] = await Promise.all([['none', workload], ['mprotect', workload], ['mprotect', strict]].map(async ([isolation, module]) => {
      const r = await nooks(['inject', so, '--workload', module, '--seed', '9', '--type', 'null-deref', '--site', 'slot', '--isolation', isolation, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as InjectResult;
    }));
    expect(none.fault).toEqual(mprotect.fault);
    // the planner the package exports plans the same fault from the same inputs
    expect(planFault(so, { seed: 9, type: 'null-deref', fn: 'slot' })).toEqual(none.fault);
    expect(none.fault).toMatchObject({ driver: 'kv', kind: 'targeted', type: 'null-deref', seed: 9, site: { function: 'slot' }, transient: true });
    expect(none).toMatchObject({ app: 'kv-workload', hostCrashed: true, outcome: 'crash', detail: 'the process died of SIGSEGV' });
    expect(mprotect).toMatchObject({ hostCrashed: false, outcome: 'continued', faultKinds: ['segv'], shadow: false }); // no device class: nothing to shadow
    expect(mprotect.recoveryMs).toHaveLength(1);
    // a workload that throws the DriverFault fails the trial, by the fault's kind
    expect(strictRun).toMatchObject({ hostCrashed: false, outcome: 'malfunction', faultKinds: ['segv'] });
    expect(strictRun.detail).toMatch(/^kv: .* \[segv\]$/);
  });

  it('inject as people read it: the fault, the workload module as given (not `the workload workload` for a workload.mjs), what nooks saw', async () => {
    const r = await nooks(['inject', so, '--workload', workload, '--seed', '9', '--type', 'null-deref', '--site', 'slot', '--isolation', 'mprotect']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^seed 9: null-deref in slot: [0-9a-f]+ -> [0-9a-f]+ \(transient\)$/);
    // kv calls no device class: a failure restarts it, and no shadow driver has anything of it to keep
    expect(lines[1]).toMatch(new RegExp(`^ran the workload ${workload} on ${so}, isolation mprotect, restarted on failure \\(no device class: nothing to shadow\\), in a child process \\(\\d+ ms\\)$`));
    expect(lines[2]).toMatch(/^the driver failed 1 time \(segv\), recovered 1 \(\d+(\.\d{1,3})? ms\); the workload continued \(its work verified\)$/);
  });

  it('inject on a driver of a device class under a workload module: shadow drivers, as its application\'s trials run', async () => {
    const idle = join(dir, 'idle.mjs');
    writeFileSync(idle, 'export default () => true;\n');
    const r = await nooks(['inject', 'blk', '--workload', idle, '--seed', '1', '--type', 'nop', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ isolation: 'mprotect', shadow: true });
  });

  it('a driver that is no ELF file (its C source given by mistake) is refused as such, not blamed on binutils', async () => {
    const source = join(dir, 'kv.c');
    const r = await nooks(['inject', source, '--workload', workload]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`nooks: ${source} is not a driver (not an ELF file): build one with nooks build [ENOTELF]\n`);
  });

  /** A copy of the driver as `name`.so, its ELF header changed by `change`. */
  function craftedHeader(name: string, change: (elf: Buffer) => void): string {
    const elf = readFileSync(so);
    change(elf);
    const path = join(dir, `${name}.so`);
    writeFileSync(path, elf);
    return path;
  }

  // Before, lib/elf.ts read the section headers unchecked first: ERR_OUT_OF_RANGE, or (e_shentsize 0) no device class in a
  // driver the loader loaded
  it('damaged section headers: the loader\'s refusal, with its code, before the CLI reads the file', async () => {
    const cases: Array<[string, string]> = [
      [craftedHeader('kv-shoff', (elf) => elf.writeBigUInt64LE(BigInt(elf.length), 0x28)), 'truncated ELF headers'],
      [craftedHeader('kv-shnum', (elf) => elf.writeUInt16LE(0xffff, 0x3c)), 'truncated ELF headers'],
      [craftedHeader('kv-shentsize', (elf) => elf.writeUInt16LE(0, 0x3a)), "malformed driver file: the section headers' size (e_shentsize) is not 64"],
    ];
    for (const [path, why] of cases) {
      const r = await nooks(['inject', path, '--workload', workload, '--seed', '1', '--type', 'nop', '--isolation', 'mprotect']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`nooks: ${path}: ${why} [ENOTELF]\n`);
    }
  });

  it('a driver without section headers (sstrip\'s): inject says so, not that it was linked without runtime.ld', async () => {
    const path = craftedHeader('kv-noshdr', (elf) => {
      elf.writeBigUInt64LE(0n, 0x28);
      elf.writeUInt32LE(0, 0x3c); // e_shnum, e_shstrndx
    });
    const r = await nooks(['inject', path, '--workload', workload, '--seed', '1', '--type', 'nop', '--isolation', 'mprotect']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path} has no section headers (stripped with sstrip?)`);
    expect(r.stderr).not.toContain('runtime.ld');
  });

  it('module_init\'s allocation failing at load: the load fails (init-failed); transient, loaded again and the work verified; persistent, the work cannot run', async () => {
    const [transient, persistent] = await Promise.all(['--transient', '--persistent'].map(async (lasting) => {
      const r = await nooks(['inject', so, '--workload', workload, '--seed', '1', '--type', 'alloc-fail', '--site', 'nooks_module_init', '--isolation', 'mprotect', lasting, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as InjectResult;
    }));
    // the work is synchronous: the load's init-failed (from the kernel's log, heard a turn later) still came before its verdict
    expect(transient).toMatchObject({ hostCrashed: false, outcome: 'continued', faultKinds: ['init-failed'], faultKindsBeforeVerdict: ['init-failed'] });
    expect(transient.recoveryMs).toHaveLength(1);
    expect(persistent).toMatchObject({ hostCrashed: false, outcome: 'malfunction', faultKinds: ['init-failed', 'init-failed'], recoveryMs: [] });
    expect(persistent.detail).toMatch(/module_init returned -12.* \[EINITFAILED\]$/);
  });

  it('inject --trials n: n faults from the seed in the one mode, each reproducible by its own seed', async () => {
    const r = await nooks(['inject', so, '--workload', workload, '--trials', '3', '--seed', '2', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { mode, records } = JSON.parse(r.stdout) as { mode: string; records: TrialRecord[] };
    expect(mode).toBe('mprotect'); // kv has no device class: nothing to shadow
    expect(records.map((x) => [x.index, x.mode])).toEqual([[0, mode], [1, mode], [2, mode]]);
    for (const x of records) expect(x.hostCrashed, x.detail).toBe(false);
    const again = await nooks(['inject', so, '--workload', workload, '--seed', String(records[1].seed), '--isolation', 'mprotect', '--json']);
    expect((JSON.parse(again.stdout) as InjectResult).fault).toMatchObject(records[1].fault);
  });

  it('inject --trials n as people read it: a line per trial, a recovered one with its recovery\'s time', async () => {
    const r = await nooks(['inject', so, '--workload', workload, '--trials', '2', '--type', 'null-deref', '--seed', '1', '--isolation', 'mprotect']);
    expect(r.code, r.stderr).toBe(0);
    const trials = r.stdout.split('\n').filter((l) => l.startsWith('#'));
    expect(trials).toHaveLength(2);
    for (const l of trials) expect(l).toMatch(/: detected \(trap\), recovered \(\d+(\.\d{1,3})? ms\); continued$/);
  });

  it('a 10-trial campaign: JSON lines with the plan, each trial\'s outcome by where its fault went', async () => {
    const r = await nooks([...campaignArgs, '--out', whole, '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as CampaignSummary;
    const [header, ...rest] = headersOf(whole);
    expect(rest).toEqual([]);
    expect(header.plan).toMatchObject({
      targets: [{ app: 'kv-workload', driver: 'kv', driverSha256: fileSha256(so), workloadSha256: fileSha256(workload) }],
      seed: 1, type: 'null-deref', transient: true, trials: 10,
    });
    const modes = header.plan.modes;
    expect(modes).toEqual(Object.keys(summary.byMode));
    // kv calls no device class: nothing to shadow, so each isolation once, without +shadow modes that would repeat it
    expect(modes).toEqual(['none', ...(Kernel.pkuSupported() ? ['pkey'] : []), 'mprotect', 'process']);
    const records = trialRecords(whole);
    expect(records).toHaveLength(10 * modes.length);
    expect(summary.trials).toBe(records.length);
    expect(new Set(records.map((x) => x.key)).size).toBe(records.length);
    // the functions the workload calls are the driver at work: faults go there too, not only into its static code;
    // module_init's code runs at load, with the fault in it: every fault is on a path the trial takes
    const sites = new Set<string>();
    for (const x of records) {
      expect(x).toMatchObject({ plan: header.plan.id, app: 'kv-workload', driver: 'kv' });
      sites.add(x.fault.site.function);
      if (x.mode === 'none') expect(x).toMatchObject({ hostCrashed: true, outcome: 'crash', detail: 'the process died of SIGSEGV' });
      else expect(x, `${x.mode}: ${x.detail}`).toMatchObject({ hostCrashed: false, detected: true, detectors: ['trap'], recovered: true, outcome: 'continued' });
    }
    expect(sites).toEqual(new Set(['kv_put', 'kv_get', 'slot', 'nooks_module_init']));
    // how long each recovery took, per trial and per mode: a figure a paper reports beside the rates
    for (const x of records) expect(x.recoveryMs, `${x.mode} #${x.index}`).toHaveLength(x.mode === 'none' ? 0 : 1);
    for (const m of modes) {
      const times = records.filter((x) => x.mode === m).flatMap((x) => x.recoveryMs!).sort((a, b) => a - b);
      expect(summary.byMode[m].recoveryTime).toEqual(times.length ? { recoveries: 10, medianMs: times[5], maxMs: times[9] } : undefined);
    }
    const text = await nooks([...campaignArgs, '--out', whole]);
    expect(text.stdout).toMatch(/^mprotect +10 +0 +10 +10 +10 +10 +10 +[\d.]+, [\d.]+ \(10\)$/m); // each detected before the verdict too
    expect(text.stdout).toMatch(/^none +10 +10 +10 +0 +0 +0 +0 +-$/m);
  }, 120_000);

  it('the campaign as two shards, merged, is the campaign; merge refuses a gap, a duplicate and another plan', async () => {
    const shards = [1, 2].map((i) => join(dir, `shard${i}.jsonl`));
    for (const [i, file] of shards.entries()) {
      const r = await nooks([...campaignArgs, '--shard', `${i + 1}/2`, '--out', file], 120_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/each in none, (pkey, )?mprotect, process: no device class, nothing to shadow\); results in /);
      expect(headersOf(file).map((h) => h.shard)).toEqual([`${i + 1}/2`]);
    }
    const [a, b] = shards.map(trialRecords);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((x) => b.some((y) => y.key === x.key))).toEqual([]);
    // a shard takes whole faults, each in every mode
    expect(new Set(a.map((x) => x.index)).size * headersOf(whole)[0].plan.modes.length).toBe(a.length);

    const all = join(dir, 'all.jsonl');
    const merged = await nooks(['campaign', 'merge', ...shards, '--out', all]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/^\d+ trials of plan [0-9a-f]{16} from 2 files/);
    expect(merged.stdout).toContain('System crashes (Nooks, Figure 6)');
    expect(headersOf(all).map((h) => h.plan)).toEqual(headersOf(whole).map((h) => h.plan));
    expect(trialRecords(all).map(trialOf).sort()).toEqual(trialRecords(whole).map(trialOf).sort());

    const gap = await nooks(['campaign', 'merge', shards[0]]);
    expect(gap.code).toBe(1);
    const planned = 10 * headersOf(whole)[0].plan.modes.length;   // 10 faults, each in every mode (more where pkey runs)
    for (const named of [`of ${planned} trials`, 'shard 2/2', '[EGAP]']) expect(gap.stderr).toContain(named); // how many are missing, whose

    const copy = join(dir, 'copy.jsonl');
    copyFileSync(shards[1], copy);
    const dup = await nooks(['campaign', 'merge', ...shards, copy]);
    expect(dup.code).toBe(1);
    for (const named of [shards[1], copy, '[EDUPLICATE]']) expect(dup.stderr).toContain(named); // the two files that hold them

    const other = join(dir, 'other.jsonl');
    const r = await nooks(['campaign', '--driver', so, '--workload', workload, '--trials', '1', '--type', 'null-deref', '--seed', '5', '--out', other], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const mixed = await nooks(['campaign', 'merge', shards[0], other]);
    expect(mixed.code).toBe(1);
    for (const named of [shards[0], other, 'seed, trials', '[EPLAN]']) expect(mixed.stderr).toContain(named); // the files, and what differs
  }, 180_000);

  it('a campaign resumed from its shards\' files takes every trial of its plan there: none run again, none lost, none of another plan', async () => {
    const shards = [1, 2].map((i) => join(dir, `shard${i}.jsonl`));
    const planned = trialRecords(whole).length;
    // the two shards joined by cat: the whole campaign, nothing left to run, complete as the report reads it
    const joined = join(dir, 'joined.jsonl');
    writeFileSync(joined, shards.map((f) => readFileSync(f, 'utf8')).join(''));
    const resumed = await nooks([...campaignArgs, '--out', joined]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^0 run now in \\d+ s, ${planned} from the file$`, 'm'));
    expect(trialRecords(joined)).toHaveLength(planned);
    const kept = keptCampaign(joined);
    expect([kept.trials.length, kept.held.size]).toEqual([planned, planned]);

    // the first shard's file run on unsharded: the second shard's trials run, once
    const grown = join(dir, 'grown.jsonl');
    copyFileSync(shards[0], grown);
    const half = trialRecords(shards[0]).length;
    for (const ran of [planned - half, 0]) {
      const r = await nooks([...campaignArgs, '--out', grown], 120_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${ran} run now in \\d+ s, ${planned - ran} from the file$`, 'm'));
    }
    expect(trialRecords(grown)).toHaveLength(planned);
    expect(headersOf(grown).map((h) => h.shard)).toEqual(['1/2', undefined]); // what it now holds: the whole plan
    expect(keptCampaign(grown).trials).toHaveLength(planned);

    // a trial there twice: the first copy is the trial (a rerun never replaces one measured)
    const [first] = trialRecords(shards[0]);
    const twice = join(dir, 'twice.jsonl');
    writeFileSync(twice, `${readFileSync(shards[0], 'utf8')}${JSON.stringify({ ...first, outcome: 'hung', ms: -1 })}\n`);
    expect(keptCampaign(twice).held.get(first.key)).toEqual(first);

    // a trial of another plan among the plan's: refused, as merge refuses it
    const other = trialRecords(join(dir, 'other.jsonl'))[0];
    const mixed = join(dir, 'mixed.jsonl');
    writeFileSync(mixed, `${readFileSync(shards[0], 'utf8')}${JSON.stringify(other)}\n`);
    const refused = await nooks([...campaignArgs, '--shard', '1/2', '--out', mixed]);
    expect(refused.code).toBe(1);
    for (const named of [mixed, `holds trial ${other.key} of plan ${other.plan}, not of plan ${headersOf(whole)[0].plan.id}`, '[EPLAN]']) expect(refused.stderr).toContain(named);
    const merged = await nooks(['campaign', 'merge', mixed, shards[1]]);
    expect(merged.code).toBe(1);
    expect(merged.stderr).toContain(`${mixed} holds trial ${other.key} of plan ${other.plan}, not of plan ${headersOf(whole)[0].plan.id}`);
  }, 180_000);

  // Before: the resumed trial's line joined the cut one, unreadable too: that trial ran again at every resume, never kept.
  it('a last line cut short (a full disk, a crash) is run again once: the next line starts on its own', async () => {
    const shard = join(dir, 'shard1.jsonl');
    const cut = join(dir, 'cut.jsonl');
    const whole1 = readFileSync(shard, 'utf8');
    writeFileSync(cut, whole1.slice(0, -40));
    const held = trialRecords(shard).length;
    for (const ran of [1, 0]) {
      const r = await nooks([...campaignArgs, '--shard', '1/2', '--out', cut], 60_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${ran} run now in \\d+ s, ${held - ran} from the file$`, 'm'));
    }
    expect([...keptCampaign(cut).held.keys()].sort()).toEqual(trialRecords(shard).map((x) => x.key).sort());
  }, 120_000);

  it('a shard planned by an older fault planner is refused by merge and by a resumed campaign; --fresh runs it again', async () => {
    const [first, second] = [1, 2].map((i) => join(dir, `shard${i}.jsonl`));
    // the second shard as nooks wrote it before the planner had a version: no planner in the plan, whose id is then the old one
    const old = join(dir, 'old-planner.jsonl');
    const [header, ...trials] = jsonLines<PlanHeader | TrialRecord>(second) as [PlanHeader, ...TrialRecord[]];
    const { id: _id, planner: _planner, ...fields } = header.plan;
    const before = planIdentity(fields);
    writeFileSync(old, [{ ...header, plan: before }, ...trials.map((t) => ({ ...t, plan: before.id }))].map((l) => `${JSON.stringify(l)}\n`).join(''));

    const merged = await nooks(['campaign', 'merge', first, old]);
    expect(merged.code).toBe(1);
    for (const named of [first, old, 'differ in planner', 'fault planner 1', '--fresh', '[EPLAN]']) expect(merged.stderr).toContain(named);
    // every shard of the old planner: refused as a resumed campaign refuses it, not merged
    const alone = await nooks(['campaign', 'merge', old]);
    expect(alone.code).toBe(1);
    for (const named of [`${old} holds a campaign of fault planner 1, whose trial N is another fault`, '--fresh', '[EPLAN]']) expect(alone.stderr).toContain(named);

    // resumed with its file, the shard would take the old trials for its own: refused before any runs
    const resumed = await nooks([...campaignArgs, '--shard', '2/2', '--out', old]);
    expect(resumed.code).toBe(1);
    for (const named of [old, 'another campaign', 'differ in planner', '--fresh', '[EPLAN]']) expect(resumed.stderr).toContain(named);
    expect(jsonLines(old)).toHaveLength(trials.length + 1);

    const fresh = await nooks([...campaignArgs, '--shard', '2/2', '--out', old, '--fresh'], 120_000);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(headersOf(old)).toEqual([header]);
    const again = await nooks(['campaign', 'merge', first, old]);
    expect(again.code, again.stderr).toBe(0);
  }, 180_000);

  it('a file of fault planner 2 (its faults written in after the load, the driver never unloaded in the trial) is refused by a resumed campaign', async () => {
    const second = join(dir, 'shard2.jsonl');
    const planner2 = join(dir, 'planner2.jsonl');
    const [header, ...trials] = jsonLines<PlanHeader | TrialRecord>(second) as [PlanHeader, ...TrialRecord[]];
    const { id: _id, ...fields } = header.plan;
    const before = planIdentity({ ...fields, planner: 2 });
    writeFileSync(planner2, [{ ...header, plan: before }, ...trials.map((t) => ({ ...t, plan: before.id }))].map((l) => `${JSON.stringify(l)}\n`).join(''));
    const resumed = await nooks([...campaignArgs, '--shard', '2/2', '--out', planner2]);
    expect(resumed.code).toBe(1);
    for (const named of [planner2, 'another campaign', 'differ in planner', 'fault planner 2', '--fresh', '[EPLAN]']) expect(resumed.stderr).toContain(named);
  });
});

// A libc driver reads its device's sysfs files: it needs the load option
// devices, which the workload's load export gives (a device it adds first)
const cfg = buildDriver(dir, 'cfg', `
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

long vendor(void)
{
	const char *dev = getenv("DEV");
	char path[96];
	uint16_t id = 0;

	if (!dev)
		return -2;
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", dev);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, &id, 2, 0) != 2)
		id = 0;
	close(fd);
	return id;
}

long unused(long x)
{
	return x + 1;
}
`, { posix: true });
const cfgWorkload = join(dir, 'cfg-workload.mjs');
writeFileSync(cfgWorkload, `
let device;
export function load({ kernel }) {
  device = kernel.addDevice('testdev', {});
  return { devices: [device.address], env: { DEV: device.address } };
}
export default function workload({ driver }) {
  const got = driver.call('vendor');
  return got === device.vendor ? true : { ok: false, detail: \`vendor \${got}, not \${device.vendor}\` };
}
`);

describe('a workload module\'s load export', () => {
  it('loads the driver with the options it returns: a libc driver reads the config of the device it added', async () => {
    const r = await nooks(['inject', cfg, '--workload', cfgWorkload, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'continued', failures: 0 });
  });

  // Before, the trial child's error counted as a host crash: outcome 'crash', hostCrashed true.
  it.each([
    ['sets what is the trial\'s own', '() => ({ shadow: false })', 'may set devices, env, params, dmaBytes, argv; not shadow (the trial\'s own) [EWORKLOAD]'],
    ['throws', '() => { throw new Error(\'no NIC here\'); }', 'load export threw: no NIC here [EWORKLOAD]'],
    ['names a device the kernel does not have', '() => ({ devices: [\'0000:00:09.0\'] })', 'load option devices: no device 0000:00:09.0 on the kernel\'s bus'],
  ])('a load export that %s stops the trial with its error, no result', async (_, load, error) => {
    const bad = join(dir, `load-${load.length}-workload.mjs`);
    writeFileSync(bad, `export const load = ${load};\nexport default () => true;\n`);
    const r = await nooks(['inject', cfg, '--workload', bad, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nooks: the trial could not be set up: `);
    expect(r.stderr).toContain(error);
  });

  it('a load export that is no function is refused before any trial', async () => {
    const bad = join(dir, 'bad-load-workload.mjs');
    writeFileSync(bad, 'export const load = { devices: [] };\nexport default () => true;\n');
    const r = await nooks(['inject', cfg, '--workload', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`workload module ${bad}: its load export must be a function ({ kernel, trial, seed }) => load options, got object [EWORKLOAD]`);
  });
});

describe('a workload\'s own verdict', () => {
  // Before, the work's failure read as a broken module: 'EWORKLOAD: the frames came back wrong'.
  it.each([
    ['{ ok: false, detail }', '() => ({ ok: false, detail: \'the frames came back wrong\' })', 'the frames came back wrong [EFAIL]'],
    ['false', '() => false', 'the workload returned false [EFAIL]'],
  ])('%s is the work failing (EFAIL), not a broken module (EWORKLOAD)', async (_, work, detail) => {
    const verdict = join(dir, `verdict-${work.length}-workload.mjs`);
    writeFileSync(verdict, `export const load = () => ({ devices: [] });\nexport default ${work};\n`);
    const r = await nooks(['inject', cfg, '--workload', verdict, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ failures: 0, detail });
  });
});

describe('a POSIX driver that ends its process with exit(0)', () => {
  const quit = buildDriver(dir, 'quit', `
#include <stdlib.h>
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

long unused(long x)
{
	return x + 1;
}

NOOKS_EXPORT long finish(void)
{
	exit(0);
}
`, { posix: true });
  const quitWorkload = join(dir, 'quit-workload.mjs');
  writeFileSync(quitWorkload, `export default ({ driver }) => { driver.call('finish'); return true; };\n`);

  // Before, the trial's missing report was parsed all the same: 'SyntaxError: Unexpected token 's', "started" ...' ended inject (and a campaign)
  it('without isolation ends the host before its report: a host crash, with what the process said last', async () => {
    const r = await nooks(['inject', quit, '--workload', quitWorkload, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'none', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: 'crash', hostCrashed: true, detail: 'the process ended (exit status 0) before its report; its output ended: nooks: driver quit called exit(0)',
    });
  });

  // Before, a workload that ran a while left only heartbeats there: 'its output ended: alive | alive | nooks: driver quit called exit(0)'
  it('after a while of work: what the process said last is its own lines, not the trial\'s heartbeats', async () => {
    const slow = join(dir, 'slow-quit-workload.mjs');
    // 350 ms of waiting: the trial's heartbeat (every 100 ms) writes several lines meanwhile
    writeFileSync(slow, `export default async ({ driver }) => { await new Promise((r) => setTimeout(r, 350)); driver.call('finish'); return true; };\n`);
    const r = await nooks(['inject', quit, '--workload', slow, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'none', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: 'crash', hostCrashed: true, detail: 'the process ended (exit status 0) before its report; its output ended: nooks: driver quit called exit(0)',
    });
  });

  // Before, the trial's report was its stdout's last line: this one, printed by the workload, was taken for it, and the
  // host that died was recorded { outcome: 'continued', hostCrashed: false }
  it('a report the workload prints before the host ends is its output, not the trial\'s report', async () => {
    const forger = join(dir, 'report-forger.mjs');
    const forged = JSON.stringify({ ok: true, failures: 0, faultKinds: [], running: true, recoveryMs: [] });
    writeFileSync(forger, `export default ({ driver }) => { console.log(${JSON.stringify(`report ${forged}`)}); console.log(${JSON.stringify(forged)}); driver.call('finish'); return true; };\n`);
    const r = await nooks(['inject', quit, '--workload', forger, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'none', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: 'crash', hostCrashed: true,
      detail: `the process ended (exit status 0) before its report; its output ended: report ${forged} | ${forged} | nooks: driver quit called exit(0)`,
    });
  });
});

describe('a workload that prints the trial\'s own lines on its stdout', () => {
  // a driver whose code the workload never runs: no fault planned into it shows, whatever the seed
  const idle = buildDriver(dir, 'idle', `
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

long unused(long x)
{
	return x + 1;
}
`, { posix: true });
  const forge = (name: string, lines: string[]) => {
    const path = join(dir, `${name}.mjs`);
    writeFileSync(path, `export default () => { for (const l of ${JSON.stringify(lines)}) console.log(l); return true; };\n`);
    return path;
  };

  // Before, the trial's lines came on the same stdout: each trial was recorded { failure: true, detected: true,
  // detectors: ['trap', 'watchdog'], detectedBeforeVerdict: true, recovered: true, recoveryMs: [5] } of a fault that never ran
  it('a campaign records what nooks saw, not the lines it printed: no fault, no recovery', async () => {
    const forger = forge('fault-forger', ['fault segv', 'recovered 5', 'judged', 'fault timeout']);
    const out = join(dir, 'forged.jsonl');
    const r = await nooks(['campaign', '--driver', idle, '--workload', forger, '--trials', '2', '--type', 'nop', '--seed', '1', '--out', out, '--json'], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const records = trialRecords(out);
    expect(records.length).toBeGreaterThanOrEqual(2 * 3); // none, mprotect, process (and pkey where it runs)
    for (const x of records) {
      expect(x, `${x.mode} #${x.index}`).toMatchObject({
        failure: false, hostCrashed: false, detected: false, detectors: [], detectedBeforeVerdict: false, recovered: false, recoveryMs: [], outcome: 'continued',
      });
    }
  }, 60_000);

  // Before, its `setup-failed` line ended inject (and would have ended a campaign): 'the trial could not be set up: forged'
  it('a `setup-failed` line it prints is no trial that could not be set up', async () => {
    const forger = forge('setup-forger', ['setup-failed {"code":"EFORGED","message":"forged"}']);
    const r = await nooks(['inject', idle, '--workload', forger, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'continued', hostCrashed: false, failures: 0, faultKinds: [], recoveryMs: [] });
  });

  // Before, a line on fd 3 that was not JSON ended the command itself: 'SyntaxError: Expected property name or '}' in
  // JSON at position 1' (an uncaught exception in the child's 'close' listener)
  it('a broken line it writes on the trial\'s own fd is not the trial\'s: the report that follows counts', async () => {
    const path = join(dir, 'fd3-forger.mjs');
    writeFileSync(path, `import { writeSync } from 'node:fs';\nexport default () => { writeSync(3, 'report {not json\\nsetup-failed {cut\\n'); return true; };\n`);
    const r = await nooks(['inject', idle, '--workload', path, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'continued', hostCrashed: false, failures: 0 });
  });
});

describe('a failure at the unload, after the work was judged', () => {
  const bye = buildDriver(dir, 'bye', `
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

static long *volatile nowhere;

long unused(long x)
{
	return x + 1;
}

NOOKS_EXPORT long twice(long x)
{
	return 2 * x;
}

static int bye_init(void)
{
	return 0;
}

static void bye_exit(void)
{
	*nowhere = 1;
}

module_init(bye_init);
module_exit(bye_exit);
`);
  const byeWorkload = join(dir, 'bye-workload.mjs');
  writeFileSync(byeWorkload, `export default ({ driver }) => driver.call('twice', 21) === 42;\n`);

  it('is a detected failure, said to have come after the verdict', async () => {
    const r = await nooks(['inject', bye, '--workload', byeWorkload, '--type', 'nop', '--site', 'unused', '--seed', '1', '--isolation', 'mprotect', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'continued', hostCrashed: false, faultKinds: ['segv'], faultKindsBeforeVerdict: [] });
  });
});

// A program's argv (its arguments after its name, as nooks exec takes them): from the workload's load, or from the
// command line after -- for a workload that sets none; main gets them at the load and again at each restart (-c 2:
// it faults at its second tick, and the policy restarts it from main). The workload keeps main's banners.
describe('a program\'s argv', () => {
  const program = fixtureDriver('program', { posix: true });
  const args = ['-i', '50', '-c', '2', 'eth0'];
  const banner = 'program: started, argc 6, interval 50 ms, limit -1, status 0, crash 2, operands: eth0';
  /** A workload that keeps the banners of main's first two runs in `<name>.json`; its load returns `load`. */
  const bannerWorkload = (name: string, load: string) => {
    const path = join(dir, `${name}-workload.mjs`);
    writeFileSync(path, `import { writeFileSync } from 'node:fs';
export const load = () => (${load});
export default async function ({ kernel, driver }) {
  const banners = () => kernel.log().filter((l) => l.source === driver.name && l.text.includes(': started,')).map((l) => l.text);
  while (banners().length < 2) await new Promise((r) => setTimeout(r, 5));
  writeFileSync(${JSON.stringify(join(dir, `${name}.json`))}, JSON.stringify(banners().slice(0, 2)));
  return true;
}
`);
    return path;
  };
  const banners = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as string[];
  /** A nop in a function nothing calls: the trial's failures are the program's own. */
  const faultFree = (site = 'prog_ticks') => ['--type', 'nop', '--site', site, '--seed', '1', '--isolation', 'mprotect', '--json'];

  // Before: load's argv was refused (may set devices, env, params, dmaBytes; not argv), main given its name alone.
  it('from the workload\'s load: main sees exactly them, restarted too', async () => {
    const r = await nooks(['inject', program, '--workload', bannerWorkload('own', `{ argv: ${JSON.stringify(args)} }`), ...faultFree()]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout), r.stdout).toMatchObject({ outcome: 'continued', faultKinds: expect.arrayContaining(['segv']) });
    expect(banners('own')).toEqual([banner, banner]);
  });

  // Before: `unexpected argument "-i"; usage: nooks inject <driver>`.
  it('from the command line after --, for a workload that sets none', async () => {
    const r = await nooks(['inject', program, '--workload', bannerWorkload('cli', 'undefined'), ...faultFree(), '--', ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout), r.stdout).toMatchObject({ outcome: 'continued', faultKinds: expect.arrayContaining(['segv']) });
    expect(banners('cli')).toEqual([banner, banner]);
  });

  it('a campaign\'s plan records them; a workload that sets its own refuses them before any trial', async () => {
    const both = bannerWorkload('both', `{ argv: ['-q'] }`);
    const out = join(dir, 'argv-campaign.jsonl');
    const r = await nooks(['campaign', '--driver', program, '--workload', both, '--trials', '1', '--out', out, '--', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the trial could not be set up: workload module ${both} sets the program's argv in its load export: `
      + 'arguments after -- on the command line are for a workload that sets none [EWORKLOAD]');
    expect(jsonLines<PlanHeader>(out)[0].plan.targets[0]).toMatchObject({ driver: 'program', argv: args });
  });

  // Before: refused by each trial after its load (one whose load failed recorded first), the plan written.
  it('refused for a driver that is no program before any trial, and a built-in driver\'s application', async () => {
    const refusal = `nooks: ${cfg} is no program (it defines no main, or is not built with --posix): the arguments after -- are for a program's main [EINVAL]`;
    const library = await nooks(['inject', cfg, '--workload', cfgWorkload, ...faultFree('unused'), '--', '-v']);
    expect(library.code).toBe(1);
    expect(library.stderr).toContain(refusal);
    const out = join(dir, 'library-argv.jsonl');
    const campaign = await nooks(['campaign', '--driver', cfg, '--workload', cfgWorkload, '--trials', '1', '--out', out, '--', '-v']);
    expect(campaign.code).toBe(1);
    expect(campaign.stderr).toContain(refusal);
    expect(existsSync(out)).toBe(false);
    const builtIn = await nooks(['campaign', '--driver', 'blk', '--', '-v']);
    expect(builtIn.code).toBe(1);
    expect(builtIn.stderr).toContain('nooks: "-v": a program\'s arguments (after --, as nooks exec takes them) go with --workload <module.mjs>');
  });

  // Before: "eth0" was main's argv without --, where docs, nooks exec and nooks campaign take only what follows --.
  it('only after --: a word between the driver and -- is refused', async () => {
    const r = await nooks(['inject', program, '--workload', bannerWorkload('bare', 'undefined'), 'eth0', ...faultFree()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nooks: inject: unexpected argument "eth0": a program's arguments go after -- (nooks inject ${program} ... -- eth0)`);
  });

  it('a load whose argv is no list of strings is refused, naming the module', async () => {
    const bad = bannerWorkload('bad', `{ argv: '-d uio0' }`);
    const r = await nooks(['inject', program, '--workload', bad, ...faultFree()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`workload module ${bad}: its load export's argv must be the program's arguments after its name, `
      + 'a list of strings (as nooks exec <driver> -- args), got "-d uio0" [EWORKLOAD]');
  });
});

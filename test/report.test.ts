// `nooks report` end to end: the benchmarks and experiments measured (short
// runs), the page written with its charts, and the page rendered by headless
// Chromium (.ci/run installs it; skipped only where it is missing).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuModel } from '../lib/bench/common.js';
import { campaignModes } from '../lib/experiments/campaign.js';
import { planIdentity, planTrials, type PlanIdentity } from '../lib/experiments/plan.js';
import { plannerVersion } from '../lib/inject/index.js';
import { modeColors } from '../lib/report/modes.js';
import { isolations } from '../lib/wrappers/enums.js';
import { cli, nooks } from './helpers/cli.js';
import type { Exit } from './helpers/util.js';

const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync('which', [c]).status === 0);
const run = promisify(execFile);
const report = (...args: string[]) => nooks(['report', ...args], { timeoutMs: 300_000 });

describe('nooks report', () => {
  let out: string;
  let first: Exit;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'nooks-report-'));
    first = await report('--quick', '--out', out, '--json');
  }, 320_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every part and writes the page with a chart or table for each', () => {
    expect(first.code, first.stderr.slice(0, 2000)).toBe(0);
    const r = JSON.parse(first.stdout);
    expect(r.sections.map((s: { id: string }) => s.id)).toEqual(['xpc', 'scale', 'bench-net', 'bench-block', 'bench-sound', 'bench-serial', 'table-apps', 'campaign']);
    expect(r.sections.every((s: { cached: boolean; error?: string }) => !s.cached && !s.error)).toBe(true);
    const page = readFileSync(r.page, 'utf8');
    expect(page).not.toMatch(/Not measured/);
    // crossings, crossings with threads, relative performance and CPU, recovery times, and the campaign's three figures
    expect(page.match(/<svg/g)?.length).toBeGreaterThanOrEqual(8);
    expect(page).toMatch(/Crossings with threads/);
    expect(page).toMatch(/<th>16 loaded<\/th>/); // the round trip with more drivers loaded
    expect(page).toMatch(/317\/2000/); // the Nooks paper's system crashes beside ours
    // the plan's header, then 4 applications x every mode (none, then mprotect and process, pkey where the CPU has it, each without and with shadow), 1 fault each
    expect(readFileSync(join(out, 'data', 'campaign.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1 + 4 * campaignModes().length);
    expect(page).toMatch(/<td class="continued">continued/); // Table 3: shadow drivers
    expect(page).toMatch(/>3000</); // the paper's XPC beside ours
    for (const id of ['xpc', 'scale', 'bench-block', 'table-apps']) expect(existsSync(join(out, 'data', `${id}.json`))).toBe(true);
  });

  it('names the run behind the page and links its raw data', () => {
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    const about = (name: string) => new RegExp(`<dt>${name.replace(/[()]/g, '\\$&')}</dt><dd>([^<]*(?:<a [^]*?)?)</dd>`).exec(page)?.[1];
    const head = spawnSync('git', ['-C', join(__dirname, '..'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    expect(about('Commit')).toMatch(new RegExp(`^${head}( \\+ local changes)?$`));
    expect(about('Kernel')).toBe(release());
    expect(about('Node')).toBe(process.version);
    expect(about('CPU')).toBe(cpuModel());
    const xpc = JSON.parse(readFileSync(join(out, 'data', 'xpc.json'), 'utf8'));
    expect(about('Protection keys (PKU)')).toBe(xpc.pku ? 'yes' : 'no');
    expect(about('Quick run')).toMatch(/^yes/);
    expect(about('Measured')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const links = [...(about('Raw data') ?? '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(['data/about.json', 'data/xpc.json', 'data/scale.json', 'data/bench-net.json', 'data/bench-block.json',
      'data/bench-sound.json', 'data/bench-serial.json', 'data/table-apps.json', 'data/campaign.jsonl']);
    for (const l of links) expect(existsSync(join(out, l)), l).toBe(true);
  });

  it('gives each rate its sample and 95 % interval, and says a quick campaign is too small to compare', () => {
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    const crashes = page.slice(page.indexOf('<h2>Fault injection: host crashes'), page.indexOf('<h2>Fault injection: what became'));
    const rows = [...crashes.matchAll(/<tr[^>]*><td>([^<]+)<\/td><td[^>]*>([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    // every mode with its 4 trials (one per application), in the report's order, each too few to compare; the paper's 2000 are not
    const modes = campaignModes().map((m) => m.name);
    const order = isolations.flatMap((i) => [i, `${i}+shadow`]).filter((m) => modes.includes(m));
    expect(rows.map(([mode]) => mode)).toEqual([...order, 'native (paper)', 'Nooks (paper)']);
    for (const [, text] of rows.slice(0, -2)) expect(text).toMatch(/^[\d.]+ % \([0-4]\/4; 95 % CI [\d.]+–[\d.]+ %; too few trials to compare\)$/);
    expect(rows.at(-2)![1]).toBe('15.9 % (317/2000; 95 % CI 14.3–17.5 %)');
    expect(crashes).toMatch(/Faded bars: too few trials to compare\. With 4 trials, the 95 % interval \(Wilson score\) is wider than 20 percentage points/);
    expect(crashes).toMatch(/too few to compare<\/text>/); // on the chart too, beside each faded bar
    // the failures detected before the application's verdict, a column of their own after the measures (detected left as it is)
    const failures = page.slice(page.indexOf('<h2>Fault injection: what became'));
    expect(failures).toMatch(/<th>app continued \(of trials\)<\/th><th>detected before the verdict \(of detected\)<\/th><\/tr>/);
  });

  it('gives each mode one colour on every chart that shows it', () => {
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    const sections = page.split('<section>').slice(1);
    const { domain, range } = modeColors(['none', 'mprotect', 'mprotect+shadow', 'process']);
    const colour = Object.fromEntries(domain.map((m, i) => [m, range[i]]));
    for (const title of ['Crossing cost', 'Crossings with threads', 'Throughput and CPU', 'host crashes', 'what became of the failures']) {
      const s = sections.find((x) => x.includes(title))!;
      for (const m of ['none', 'mprotect', 'process']) expect(s, `${m} in ${title}`).toMatch(new RegExp(`(fill|stroke)="${colour[m]}"`));
    }
    const recovery = sections.find((x) => x.includes('Recovery time per class'))!;
    expect(recovery).toMatch(new RegExp(`fill="(${colour['mprotect+shadow']}|${modeColors(['process+shadow']).range[0]}|${modeColors(['pkey+shadow']).range[0]})"`));
    expect(recovery).toMatch(/fill="#444444"/); // the paper's
  });

  it('draws crossing costs in ns, with cycles only in the table beside the paper\'s, and CPU seconds beside throughput', () => {
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toMatch(/ns per crossing \(log scale\)/);
    expect(page).not.toMatch(/cycles per crossing/);
    expect(page).toMatch(/<th>round trip, ns<\/th><th>round trip, cycles<\/th>/);
    expect(page).toMatch(/<td>Nooks \(paper\)<\/td><td>≈ 1765<\/td><td>3000<\/td>/);
    expect(page).toMatch(/CPU s per s measured/);
    expect(page).toMatch(/<td>[\d.]+ s of 0\.5 s<\/td>/);
  });

  it('a second run reads the kept results instead of measuring', async () => {
    const again = await report('--out', out, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).sections.every((s: { cached: boolean }) => s.cached)).toBe(true);
    // the page names the quick run that measured the kept results, not the full one this command would have run
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toMatch(/<dt>Quick run<\/dt><dd>yes/);
    expect(page).toMatch(/campaign --trials 1 .*kept from \d{4}-\d\d-\d\d \d\d:\d\d UTC, quick/);
    // and so does the command's output
    const told = await report('--out', out);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stdout).toMatch(/^kept: crossing costs \(measured \d{4}-\d\d-\d\dT[\d:.]+Z by nooks bench xpc --runs 3 --iters 2000; --fresh measures again\)$/m);
    expect(told.stdout).toMatch(/^kept: fault-injection campaign \(measured \S+ by nooks campaign --trials 1 /m);
  });

  it.skipIf(!chromium)(`renders in headless Chromium${chromium ? '' : ' (skipped: chromium is not installed)'}`, async () => {
    const url = `file://${join(out, 'index.html')}`;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars'];
    const { stdout: dom } = await run(chromium!, [...flags, '--dump-dom', url], { timeout: 60_000 });
    expect(dom.match(/<svg/g)?.length).toBeGreaterThanOrEqual(8);
    expect(dom).toMatch(/Crossing cost per isolation mode/);
    const shot = join(out, 'shot.png');
    await run(chromium!, [...flags, '--window-size=900,2400', `--screenshot=${shot}`, url], { timeout: 60_000 });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(900); // IHDR width
    expect(png.length).toBeGreaterThan(50_000); // text and charts, not a blank page (a blank one is a few KB)
  }, 130_000);

  it('a campaign file this report did not write (a campaign of one\'s own driver put there) is shown with the plan it records', async () => {
    const file = join(out, 'data', 'campaign.jsonl');
    const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as { plan: { id: string; trials: number } };
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n`); // not the bytes the measuring run wrote: its run is unknown
    const r = await report('--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    // the command beside it is only the one this report would run: the file says what it holds
    expect(page).toContain(`(kept; its run is unknown; the file records plan ${header.plan.id} (blk under db, uart16550 under echo, pcm under player, e1000 under net-transfer; seed 1, any, transient, ${header.plan.trials} trials, modes `);
  });

  describe('a kept campaign file is read as the campaign command resumes it', () => {
    const file = () => join(out, 'data', 'campaign.jsonl');
    let whole: string;
    beforeAll(() => {
      whole = readFileSync(file(), 'utf8').trim();
    });
    afterAll(() => writeFileSync(file(), `${whole}\n`));
    /** The kept file with its header's plan changed (and its id made again from its fields, as plan.ts does), and its first `keep` trials. */
    const rewrite = (change: Partial<PlanIdentity>, keep?: number) => {
      const [head, ...trials] = whole.split('\n');
      const plan = planIdentity({ ...(JSON.parse(head) as { plan: PlanIdentity }).plan, ...change }); // the id made again from the fields
      writeFileSync(file(), [JSON.stringify({ plan }), ...trials.slice(0, keep).map((t) => JSON.stringify({ ...JSON.parse(t), plan: plan.id }))].join('\n') + '\n');
      return plan;
    };
    const campaignSection = (r: Exit) => JSON.parse(r.stdout).sections.find((s: { id: string }) => s.id === 'campaign');

    it('refuses one of an older fault planner (EPLAN), as the campaign command does', async () => {
      rewrite({ planner: plannerVersion - 1 });
      const r = await report('--out', out, '--json');
      expect(r.code).toBe(1);
      expect(campaignSection(r).error).toMatch(new RegExp(`holds a campaign of fault planner ${plannerVersion - 1}, whose trial N is another fault .* --fresh starts the file over`));
    });

    it('resumes its own campaign cut short, each trial once', async () => {
      writeFileSync(file(), `${whole.split('\n').slice(0, 4).join('\n')}\n${whole.split('\n')[2]}\n`); // 3 trials, one of them twice
      const r = await report('--quick', '--out', out, '--json');
      expect(campaignSection(r)).toMatchObject({ cached: false });
      expect(campaignSection(r).partial).toBeUndefined();
      const keys = readFileSync(file(), 'utf8').trim().split('\n').slice(1).map((l) => (JSON.parse(l) as { key: string }).key);
      expect(new Set(keys).size).toBe(4 * campaignModes().length);
      expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(new RegExp(`Here: ${4 * campaignModes().length} trials\\.`));
    }, 120_000);

    // Before: the report died of it, its `nooks campaign` ran on unseen, appending every trial of its plan to the file.
    it('killed (SIGTERM) while its campaign runs: the campaign ends with it, no trial after', async () => {
      rmSync(file());
      const tmp = mkdtempSync(join(tmpdir(), 'nooks-report-kill-'));
      try {
        // TMPDIR: the run's own, where the campaign's trials make their directories
        const child = spawn(process.execPath, [cli, 'report', '--quick', '--out', out], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
        const died = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        const next = () => new Promise((r) => setTimeout(r, 5));
        while (child.exitCode === null && !readdirSync(tmp).some((f) => f.startsWith('nooks-trial-'))) await next();
        const commands = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ');
        child.kill('SIGTERM');
        expect(await died).toBe('SIGTERM');
        // gone, or a zombie no one reaps (its parent gone)
        const running = (pid: string) => {
          try {
            return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
          } catch {
            return false;
          }
        };
        while (commands.some(running)) await next();
        expect(readFileSync(file(), 'utf8').trim().split('\n').length).toBeLessThan(1 + 4 * campaignModes().length);
        expect(readdirSync(tmp)).toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }, 120_000);

    it('says a kept campaign of another plan that it cannot resume is partial', async () => {
      const plan = rewrite({ trials: 2 }, 5);
      const r = await report('--out', out, '--json');
      expect(campaignSection(r).partial).toEqual({ held: 5, planned: planTrials(plan).length });
      expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`Here: 5 trials, a partial campaign: 5 of the ${planTrials(plan).length} trials its plan has`);
    });
  });

  it('a part that cannot be read or measured is named on the page, and the command exits 1', async () => {
    writeFileSync(join(out, 'data', 'bench-net.json'), '{ cut short');
    const r = await report('--out', out, '--json');
    expect(r.code).toBe(1);
    const net = JSON.parse(r.stdout).sections.find((s: { id: string }) => s.id === 'bench-net');
    expect(net.error).toMatch(/JSON/);
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toMatch(/Not measured: .*JSON/);
    // not the file the measuring run wrote: the page does not claim that run for it
    expect(page).toMatch(/bench net --json<\/code> \(kept; its run is unknown\)/);
  });
});

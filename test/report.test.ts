// `nooks report` end to end: the benchmarks and experiments measured (short
// runs), the page written with its charts, and the page rendered by headless
// Chromium (.ci/run installs it; skipped only where it is missing).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = join(__dirname, '..', 'dist', 'lib', 'cli', 'main.js');
const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync('which', [c]).status === 0);
const nooks = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 180_000 });

describe('nooks report', () => {
  let out: string;
  let first: ReturnType<typeof nooks>;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'nooks-report-'));
    first = nooks('report', '--quick', '--out', out, '--json');
  }, 200_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every part and writes the page with a chart or table for each', () => {
    expect(first.status, first.stderr).toBe(0);
    const r = JSON.parse(first.stdout);
    expect(r.sections.map((s: { id: string }) => s.id)).toEqual(['xpc', 'bench-net', 'bench-block', 'bench-sound', 'bench-serial', 'table-apps']);
    expect(r.sections.every((s: { cached: boolean; error?: string }) => !s.cached && !s.error)).toBe(true);
    const page = readFileSync(r.page, 'utf8');
    expect(page).not.toMatch(/Not measured/);
    expect(page.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3); // crossings, relative performance, recovery times
    expect(page).toMatch(/<td class="continued">continued/); // Table 3: shadow drivers
    expect(page).toMatch(/>3000</); // the paper's XPC beside ours
    for (const id of ['xpc', 'bench-block', 'table-apps']) expect(existsSync(join(out, 'data', `${id}.json`))).toBe(true);
  });

  it('a second run reads the kept results instead of measuring', () => {
    const t0 = Date.now();
    const again = nooks('report', '--out', out, '--json');
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).sections.every((s: { cached: boolean }) => s.cached)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it.skipIf(!chromium)(`renders in headless Chromium${chromium ? '' : ' (skipped: chromium is not installed)'}`, () => {
    const url = `file://${join(out, 'index.html')}`;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars'];
    const dom = execFileSync(chromium!, [...flags, '--dump-dom', url], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    expect(dom.match(/<svg/g)?.length).toBeGreaterThanOrEqual(3);
    expect(dom).toMatch(/Crossing cost per isolation mode/);
    const shot = join(out, 'shot.png');
    execFileSync(chromium!, [...flags, '--window-size=900,2400', `--screenshot=${shot}`, url], { timeout: 60_000, stdio: 'ignore' });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(900); // IHDR width
    expect(png.length).toBeGreaterThan(50_000); // text and charts, not a blank page (a blank one is a few KB)
  }, 130_000);
});

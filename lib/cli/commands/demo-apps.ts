// The second part of `nooks demo`: the four device classes at work. Each
// application runs as its own program (one kernel per process): it boots a
// kernel in the demo's isolation with its emulated device, loads the driver,
// does its job and prints one JSON line, which is shown here as its fields.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../classes/net.js';
import type { Isolation } from '../../kernel.js';
import { packageRoot } from '../../paths.js';
import { ms } from './common.js';

export interface AppRun {
  app: string;
  class: 'block' | 'serial' | 'sound' | 'net';
  ok: boolean;
  /** The application's own JSON report (or what it printed, when that was not JSON). */
  report: unknown;
  ms: number;
}

/** The fields of an application's report, as `name value`: nested ones as `outer.name`, an error's message first. */
function reportFields(report: unknown, prefix = ''): string[] {
  if (typeof report !== 'object' || report === null) return report === undefined ? [] : [`${prefix}${String(report)}`];
  const { error, ...rest } = report as { error?: unknown };
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : error;
  return [
    ...(message ? [`${prefix}error: ${String(message)}`] : []),
    ...Object.entries(rest).flatMap(([name, v]): string[] => {
      if (['ok', 'app', 'isolation'].includes(name) || v === undefined || v === null) return []; // the line says these already
      if (Array.isArray(v)) return v.length ? [`${prefix}${name} ${v.length}`] : [];
      if (typeof v === 'object') return reportFields(v, `${prefix}${name}.`);
      return [`${prefix}${name} ${String(v)}`];
    }),
  ];
}

/** `ok     serial echo  124 ms  linesSent 5, ...`: the report's fields up to `width` characters, then … where some were left out. */
export function appRunLine(a: AppRun, width = 150): string {
  let shown = '';
  for (const field of reportFields(a.report)) {
    const next = shown ? `${shown}, ${field}` : field;
    if (next.length > width) {
      shown = shown ? `${shown}, …` : `${field.slice(0, width - 1)}…`;
      break;
    }
    shown = next;
  }
  return `${a.ok ? 'ok    ' : 'FAILED'} ${a.class.padEnd(6)} ${a.app.padEnd(12)} ${ms(a.ms)} ms  ${shown}`;
}

const app = (name: string) => join(packageRoot, 'dist', 'lib', 'apps', `${name}.js`);

/** Runs `node <app> ...args`; resolves with its exit status and its last JSON line. */
function runApp(name: string, args: string[], timeoutMs = 30_000): Promise<{ ok: boolean; report: unknown; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [app(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      let report: unknown;
      try {
        report = JSON.parse(last);
      } catch {
        report = { output: out.trim(), error: err.trim(), signal };
      }
      resolve({ ok: code === 0, report, ms: Date.now() - t0 });
    });
  });
}

/** Runs the applications one after the other, each booting `isolation`; onDone hears of each as it ends. */
export async function runApps(isolation: Isolation | 'auto', onDone: (r: AppRun) => void): Promise<AppRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nooks-demo-'));
  const runs: AppRun[] = [];
  const run = (name: string, args: string[]) => runApp(name, [...args, '--isolation', isolation]);
  const record = (a: string, cls: AppRun['class'], r: { ok: boolean; report: unknown; ms: number }) => {
    const one = { app: a, class: cls, ...r };
    runs.push(one);
    onDone(one);
  };
  try {
    record('db', 'block', await run('db', ['--image', join(dir, 'db.img'), '--size', String(1 << 20), '--rounds', '2', '--writes', '64']));
    record('echo', 'serial', await run('echo', ['--lines', '5']));
    const played = join(dir, 'played.wav');
    record('player', 'sound', await run('player', ['--out', played, '--seconds', '0.3']));
    record('recorder', 'sound', await run('recorder', ['--in', played, '--out', join(dir, 'recorded.wav'), '--seconds', '0.2']));
    const port = await freeUdpPort();
    const file = join(dir, 'file.bin');
    writeFileSync(file, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 131) & 0xff)));
    const peer = runApp('net-peer', ['--bind', `127.0.0.1:${port}`, '--timeout-ms', '20000']);
    const sent = await run('net-transfer', ['--file', file, '--peer', `127.0.0.1:${port}`]);
    const received = await peer;
    record('net-transfer', 'net', { ok: sent.ok && received.ok, report: { sender: sent.report, peer: received.report }, ms: sent.ms });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}

// One trial of the applications experiment (table-apps.ts; the shadow-driver
// paper's Table 3): one application on its emulated device and driver, in one
// configuration, with its driver made to fault at random moments of the run.
// It runs as a child process, because in configuration `none` the fault takes
// the process down (that is the result), and prints one JSON line.
//
//   node dist/lib/experiments/trial.js <app> <none|nooks|shadow> <seed>
//
// The fault is a null dereference on a path the application uses: the
// driver's test hook arms it (the next request, transmission, poll...), and
// it is armed again at each random moment, so it is still there after a
// recovery. The application's own verification (record checksums, echoed
// bytes, the played frames, the file's SHA-256) judges the outcome.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDb } from '../apps/db.js';
import { echoSession } from '../apps/echo.js';
import { receiveFile } from '../apps/net-peer.js';
import { sendFile } from '../apps/net-transfer.js';
import { play } from '../apps/player.js';
import { readWav } from '../apps/wav.js';
import { openBlock } from '../classes/block.js';
import { openNet } from '../classes/net.js';
import { ptyPair } from '../classes/serial.js';
import { Kernel, type Driver } from '../kernel.js';
import { defaultPolicy } from '../recovery/policy.js';

export const configs = ['none', 'nooks', 'shadow'] as const;
export type Config = (typeof configs)[number];

/** What a trial that ran to its end reports (a trial that crashed reports nothing). */
export interface TrialReport {
  app: string;
  config: Config;
  /** The application's own verdict. */
  ok: boolean;
  /** Driver failures the kernel saw. */
  failures: number;
  /** Fault to driver running again, per recovery. */
  recoveryMs: number[];
  /** Sound: the audible gap each restart cut into the playback, as the device logged it. */
  gapMs?: number[];
  /** The application's error, when not ok. */
  error?: { code: string; message: string };
}

/** An application set up for a trial: run() does its job; the hook arms the driver's fault. */
interface Setup {
  driver: Driver;
  /** The driver's NOOKS_EXPORT test hook that arms a null dereference on the path the application uses. */
  hook: string;
  run(): Promise<{ ok: boolean; error?: { code: string; message: string } }>;
  cleanup?(): void;
}

type AppSetup = (kernel: Kernel, dir: string) => Promise<Setup>;

export const trialApps: Record<string, { class: 'block' | 'serial' | 'sound' | 'net'; setup: AppSetup }> = {
  db: {
    class: 'block',
    setup: async (kernel, dir) => {
      const dev = kernel.addDevice('blk', { image: join(dir, 'db.img'), size: 1 << 20 });
      const driver = await kernel.load('blk');
      const disk = openBlock(kernel, dev.name);
      return { driver, hook: 'crash_next_submit', run: () => runDb(disk, { rounds: 24, writesPerRound: 64, records: 2048 }) };
    },
  },
  echo: {
    class: 'serial',
    setup: async (kernel) => {
      const pair = ptyPair();
      kernel.addDevice('uart16550', { tty: pair.a });
      const driver = await kernel.load('uart16550');
      return { driver, hook: 'crash_on_next_tx', run: () => echoSession(kernel, { far: pair.b, lines: 30 }), cleanup: pair.close };
    },
  },
  player: {
    class: 'sound',
    setup: async (kernel, dir) => {
      const out = join(dir, 'played.wav');
      kernel.addDevice('pcm', { playback: out });
      const driver = await kernel.load('pcm');
      const seconds = 0.6;
      const rate = 16000;
      return {
        driver,
        hook: 'crash_next_pointer',
        run: async () => {
          const r = await play(kernel, { seconds, rate });
          if (!r.ok) return r;
          // the device wrote what it played: all of it, once
          const played = readWav(out).frames;
          const want = Math.round(seconds * rate);
          return played === want ? r : { ok: false, error: { code: 'EMISMATCH', message: `the device played ${played} frames of ${want}` } };
        },
      };
    },
  },
  'net-transfer': {
    class: 'net',
    setup: async (kernel) => {
      const peer = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
      kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}` });
      const driver = await kernel.load('e1000');
      const eth = openNet(kernel, 'eth0');
      const data = Buffer.alloc(400_000, 0x5a);
      return {
        driver,
        hook: 'crash_poll',
        run: () => {
          void receiveFile(peer); // the partner's verdict comes back to the sender (peerSha256)
          return sendFile(eth, data, { timeoutMs: 10_000 });
        },
        cleanup: () => peer.close(),
      };
    },
  },
};

/** Runs one trial in this process; in configuration none a fault ends the process. */
export async function runTrial(app: string, config: Config, seed: number): Promise<TrialReport> {
  const spec = trialApps[app];
  if (!spec) throw new Error(`unknown app "${app}" (apps: ${Object.keys(trialApps).join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'nooks-trial-'));
  const kernel = await Kernel.boot({
    isolation: config === 'none' ? 'none' : 'auto',
    policy: { default: { ...defaultPolicy.default, maxFailures: 20, shadow: config === 'shadow' }, drivers: new Map() },
  });
  let setup: Setup | undefined;
  try {
    setup = await spec.setup(kernel, dir);
    const s = setup;
    // two faults at random moments of the first ~300 ms (xorshift from the seed: reproducible)
    let x = seed >>> 0 || 1;
    const random = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 0x100000000);
    const timers = [20 + random() * 130, 160 + random() * 140].map((ms) =>
      setTimeout(() => {
        if (s.driver.state === 'running') s.driver.call(s.hook);
      }, ms));
    const result = await s.run();
    timers.forEach(clearTimeout);
    // a failure the application saw first is still with the agent: let it finish (at most a second)
    for (let i = 0; i < 100 && ['failed', 'recovering'].includes(s.driver.state); i++) await new Promise((r) => setTimeout(r, 10));
    const events = kernel.events();
    const gaps = kernel.log().flatMap((l) => /playback resumed at frame \d+ after a cut of ([\d.]+) ms/.exec(l.text)?.[1] ?? []).map(Number);
    return {
      app, config, ok: result.ok,
      failures: events.filter((e) => e.event === 'fault').length,
      recoveryMs: events.filter((e) => e.event === 'recovered').map((e) => e.durationMs ?? 0),
      ...(spec.class === 'sound' ? { gapMs: gaps } : {}),
      ...(result.ok ? {} : { error: result.error ?? { code: 'EFAIL', message: 'the application reported failure' } }),
    };
  } finally {
    setup?.cleanup?.();
    await kernel.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [app, config, seed] = process.argv.slice(2);
  if (!configs.includes(config as Config)) {
    process.stderr.write(`usage: trial <app> <${configs.join('|')}> <seed>\n`);
    process.exit(2);
  }
  runTrial(app, config as Config, Number(seed ?? 1)).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}

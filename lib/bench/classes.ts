// The device-class benchmarks (`nooks bench net|block|sound|serial`): a
// workload per class, run for a fixed time in each isolation mode in turn
// (none, pkey, mprotect, process), each mode in a kernel of its own with the class's
// emulated device and driver (`bench pci`: the net workload on a real PCI
// NIC, through UIO or VFIO); with several runs, in rounds of every mode in
// turn, so that drift over the invocation hits every mode alike. Per mode:
// the throughput of what actually completed, the rate of crossings into the
// driver's domain and the CPU time of the whole process (every thread:
// JavaScript, the device models, the kernel's workers and interrupt threads;
// and the driver's host process under 'process'): the shape of Table 4 in
// the Nooks paper; and where each unit's cost goes (breakdown.ts). This
// module measures; the command formats. The loads themselves are loads.ts's
// (shared with the templates' bench modules), but for the libc-style driver's
// e1000l_tx_batch(), 64 frames a call.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { E1000L_FRAME, e1000lFrames } from '../apps/e1000l.js';
import { openBlock } from '../classes/block.js';
import { freeUdpPort, nicWire, openNet } from '../classes/net.js';
import { openSerial, ptyPair } from '../classes/serial.js';
import { openPcm } from '../classes/sound.js';
import { tempDirOfProcess } from '../ending-signals.js';
import type { Isolation, Kernel } from '../kernel.js';
import type { PciVia } from '../pci.js';
import type { Policy } from '../recovery/policy.js';
import { breakdown, readCounters, type Breakdown } from './breakdown.js';
import { defaultModes, eachRound, median, medianBy, positive, round, type ModeStep, type ModeUnsupported } from './common.js';
import {
  BLOCK_BATCH, BLOCK_BYTES, BLOCK_LANES, FAR_READ_MS, FRAME_BYTES, NET_WAITING, SEND_BATCH, SERIAL_CHUNK,
  blockLoad, frame, netSendLoad, pcmPlaybackLoad, repeat, serialSendLoad, type Load,
} from './loads.js';
import { usageSince } from './usage.js';

export const classSuites = ['net', 'block', 'sound', 'serial', 'pci'] as const;
export type ClassSuite = (typeof classSuites)[number];

export interface ClassBenchOptions {
  /** Measuring time per mode and workload, in seconds (default 2), after a 0.25 s warm-up. */
  seconds?: number;
  /** Rounds, each of every mode in turn (default 1); per mode the median run is reported. */
  runs?: number;
  /** The modes to measure, in order (default: none, pkey, mprotect, process). */
  modes?: readonly Isolation[];
  /** Called before each step, for progress lines. */
  onStep?: (step: ClassBenchStep) => void;
  /** The kernels' recovery policy (default: the default policy; e.g. shadow: false to see what shadowing costs). */
  policy?: Policy;
  /** Suite pci: the real 82540EM-family NIC, already bound to the stub driver of `via` (`nooks pci bind`). */
  pci?: { address: string; via: PciVia };
}

export interface ClassBenchStep {
  workload: string;
  isolation: Isolation;
  /** boot: kernel, device and driver; measure: the load runs; skip: the mode cannot run here. */
  what: ModeStep['what'] | 'measure';
}

/** One run of one mode. */
export interface ClassRun {
  /** Units completed per second over the measuring time. */
  throughput: number;
  /** Host -> driver entries into the driver's domain per second (all threads). */
  crossingsPerSec: number;
  /**
   * CPU time of the whole process (user + system, all threads; under
   * 'process' its driver's host process too) over the measuring time,
   * scaled to exactly `seconds` of it (the window may end late).
   */
  cpuSeconds: number;
  /** throughput / the `none` throughput of the same round; null without one. */
  relative: number | null;
  /** Where each unit's cost went. */
  breakdown: Breakdown;
}

/** A mode's median run (by throughput), its relative the median of the rounds' ratios, and every run in round order. */
export interface ClassModeResult extends ClassRun {
  isolation: Isolation;
  supported: true;
  unit: string;
  runs: ClassRun[];
}

export interface WorkloadResult {
  workload: string;
  /** What the workload does and how to read its figures. */
  note: string;
  /** Measuring time per mode. */
  seconds: number;
  /** Rounds of every mode in turn. */
  runs: number;
  modes: (ClassModeResult | ModeUnsupported)[];
}

/** A mode's run as measured: its relative is known once the round's none throughput is. */
interface Measured {
  isolation: Isolation;
  supported: true;
  run: Omit<ClassRun, 'relative'>;
}

export interface Workload {
  name: string;
  unit: string;
  /** The driver whose domain's crossings are counted. */
  driver: string;
  note: string;
  /** Modes the workload cannot run in, and why. */
  unsupported?: Partial<Record<Isolation, string>>;
  /** Adds the device, loads the driver and starts the load; `dir` is scratch space. */
  start(kernel: Kernel, dir: string): Promise<Load>;
}

const WARMUP_MS = 250; // queues filled, devices running, before the counters are read

/** The names of the workloads a suite runs (net: the kapi e1000 through eth0, and the libc-style driver). */
export function classWorkloads(suite: ClassSuite): string[] {
  return suite === 'pci' ? ['pci-net-send'] : workloads[suite].map((w) => w.name);
}

export async function benchClass(suite: ClassSuite, options: ClassBenchOptions = {}): Promise<WorkloadResult[]> {
  const results: WorkloadResult[] = [];
  for (const w of suite === 'pci' ? [pciNetSend(options.pci)] : workloads[suite]) results.push(await benchWorkload(w, options));
  return results;
}

/** One workload (a class's, or a user's: driver.ts) measured in every mode, `runs` rounds of them. */
export async function benchWorkload(w: Workload, options: Omit<ClassBenchOptions, 'pci'> = {}): Promise<WorkloadResult> {
  const seconds = options.seconds ?? 2;
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`seconds must be a positive number, got ${seconds}`);
  const runs = positive(options.runs ?? 1, 'runs');
  const { dir, remove } = tempDirOfProcess('nooks-bench-'); // a bench ended by a signal (a report's, Ctrl-C) too
  try {
    const step = (s: Omit<ClassBenchStep, 'workload'>) => options.onStep?.({ workload: w.name, ...s });
    const rounds = await eachRound(runs, options.modes ?? defaultModes, (kernel) => measure(kernel, w, seconds, dir, step), step, options.policy, w.unsupported);
    return { workload: w.name, note: w.note, seconds, runs, modes: rounds[0].map((_, i) => summary(rounds, i, w.unit)) };
  } finally {
    remove();
  }
}

/** Mode `i` over the rounds: its median run, the median of its ratios to none, every run. */
function summary(rounds: (Measured | ModeUnsupported)[][], i: number, unit: string): ClassModeResult | ModeUnsupported {
  const first = rounds[0][i];
  if (!first.supported) return first; // unsupported in every round: the reason is the machine's or the workload's
  const runs = rounds.map((modes): ClassRun => {
    const { run } = modes[i] as Measured;
    const none = modes.find((x): x is Measured => x.isolation === 'none' && x.supported)?.run;
    return { ...run, relative: none && none.throughput > 0 ? round(run.throughput / none.throughput, 3) : null };
  });
  const ratios = runs.flatMap((r) => (r.relative === null ? [] : [r.relative]));
  return {
    isolation: first.isolation,
    supported: true,
    unit,
    ...medianBy(runs, (r) => r.throughput),
    relative: ratios.length === runs.length ? round(median(ratios), 3) : null,
    runs,
  };
}

async function measure(kernel: Kernel, w: Workload, seconds: number, dir: string,
  step: (s: Omit<ClassBenchStep, 'workload'>) => void): Promise<Measured> {
  const load = await w.start(kernel, dir);
  try {
    step({ isolation: kernel.isolation, what: 'measure' });
    await sleep(WARMUP_MS);
    // done() may cross (net: the driver's statistics): read before the counters at the start, after them at the end
    const done0 = load.done();
    const c0 = readCounters(kernel, w.driver);
    const t0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = readCounters(kernel, w.driver);
    const done1 = load.done();
    return {
      isolation: kernel.isolation,
      supported: true,
      run: {
        throughput: round((done1 - done0) / elapsed),
        crossingsPerSec: round((c1.crossings - c0.crossings) / elapsed),
        // per `seconds` of run: a busy event loop may end the window late, and the modes must compare
        cpuSeconds: round((usageSince(c0.usage, c1.usage).cpuUs / 1e6) * (seconds / elapsed), 3),
        breakdown: breakdown(c0, c1, done1 - done0, kernel.isolation),
      },
    };
  } finally {
    await load.stop();
  }
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

// ---- net ---------------------------------------------------------------------

const NIC_MAC = '52:54:00:00:0a:01';
const PARTNER_MAC = '52:54:00:00:0b:01';

/**
 * The emulated NIC under test and its link partner: a second emulated e1000 whose interface is never opened,
 * so its receiver is off and its model's thread takes the datagrams (recvmmsg, 32 at a time) and drops them.
 * Each frame still costs the sender's model a sendto() onto the wire, and none reaches JavaScript: a
 * JavaScript UDP sink would run a callback per datagram and measure Node's dgram more than the driver.
 * gone(): the NIC's own count of frames gone to the wire (no crossing).
 */
async function nicAndPartner(kernel: Kernel): Promise<{ address: string; gone(): number }> {
  const [port, partner] = [await freeUdpPort(), await freeUdpPort()];
  const nic = kernel.addDevice('e1000', { bind: `127.0.0.1:${port}`, peer: `127.0.0.1:${partner}`, mac: NIC_MAC });
  kernel.addDevice('e1000', { bind: `127.0.0.1:${partner}`, mac: PARTNER_MAC });
  return {
    address: nic.address,
    gone() {
      const w = nicWire(nic.name)!;
      return w.framesSent + w.framesDropped;
    },
  };
}

const netSend: Workload = {
  name: 'net-send',
  unit: 'frames/s',
  driver: 'e1000',
  note: `${FRAME_BYTES}-byte frames sent through eth0 (the e1000 driver on an emulated 82540EM), ${SEND_BATCH} per send(), ` +
    `about ${NET_WAITING} kept waiting; throughput: frames the driver reports transmitted. The link partner is a second ` +
    'emulated e1000 that nobody opens: its model reads the datagrams off the UDP wire and drops them, in C++.',
  async start(kernel) {
    await nicAndPartner(kernel);
    await kernel.load('e1000');
    const eth = openNet(kernel, 'eth0'); // the first e1000's: an interface name stays with its device for the process's life
    await until(() => eth.link, 'eth0: link up');
    return netSendLoad(eth, PARTNER_MAC);
  },
};

const LIBC_BATCH = 64;

/** net-send through the libc-style driver, called as the library it is: no class, no interrupts, no kernel queue. */
const netSendLibc: Workload = {
  name: 'net-send-libc',
  unit: 'frames/s',
  driver: 'e1000-libc',
  note: `${FRAME_BYTES}-byte frames sent by the libc-style driver (drivers/e1000-libc: plain C, its registers loads and ` +
    `stores in its mmap'ed resource0, trapped and performed on the same emulated 82540EM), ${LIBC_BATCH} per ` +
    'e1000l_tx_batch() call from JavaScript (one TDT doorbell each), up to 4096 frames a millisecond; the same link ' +
    'partner as net-send; throughput: frames the NIC put on the wire.',
  async start(kernel) {
    const { address, gone } = await nicAndPartner(kernel);
    const drv = await kernel.load('e1000-libc', { devices: [address] });
    const nic = drv.call('e1000l_open', drv.cstring(address));
    const batch = drv.alloc(E1000L_FRAME * LIBC_BATCH);
    drv.write(batch, e1000lFrames(Array<Buffer>(LIBC_BATCH).fill(frame(PARTNER_MAC, NIC_MAC))));
    // a tick's worth of batches, then the event loop: the driver takes what its ring has room for
    const sender = repeat(async () => {
      for (let k = 0; k < NET_WAITING / LIBC_BATCH && Number(drv.call('e1000l_tx_batch', nic, batch, LIBC_BATCH)) > 0; k++);
      await sleep(1);
    });
    return { done: gone, stop: () => sender.stop() };
  },
};

/** net-send on a real NIC: whatever is at the other end of its cable takes the frames. */
function pciNetSend(pci: ClassBenchOptions['pci']): Workload {
  if (!pci) throw new RangeError('bench pci needs the NIC: its PCI address and uio or vfio');
  return {
    name: 'pci-net-send',
    unsupported: { process: "real PCI devices are not supported under isolation 'process' (their BARs would have to be mapped into the driver's host process)" },
    unit: 'frames/s',
    driver: 'e1000',
    note: `${FRAME_BYTES}-byte frames sent through eth0: the e1000 driver on the real PCI NIC ${pci.address} through ${pci.via} ` +
      `(its registers a plain load or store on the mapped BAR, no crossing; its interrupts from the ${pci.via} stub driver), ` +
      `${SEND_BATCH} per send(), the kernel's queue kept full; throughput: frames the driver reports transmitted.`,
    async start(kernel) {
      kernel.attachPci(pci.address, { via: pci.via });
      await kernel.load('e1000');
      const eth = openNet(kernel, 'eth0');
      await until(() => eth.link, 'eth0: link up');
      return netSendLoad(eth); // broadcast: whatever is at the other end of the cable
    },
  };
}

// ---- block -------------------------------------------------------------------

const DISK_BYTES = 64 << 20;

const blockRandom: Workload = {
  name: 'block-random-4k',
  unit: 'ops/s',
  driver: 'blk',
  note: `random ${BLOCK_BYTES / 1024} KiB reads and writes (half each) at aligned offsets of a ${DISK_BYTES >> 20} MiB image ` +
    `file (the blk driver on the emulated queue-based disk), ${BLOCK_LANES} submitAll() batches of ${BLOCK_BATCH} in ` +
    `flight (the driver takes 32 at a time); throughput: operations completed (MiB/s = ops/s / ${(1 << 20) / BLOCK_BYTES}). ` +
    'The image is in the page cache: no flush, so the disk under it is not measured.',
  async start(kernel, dir) {
    kernel.addDevice('blk', { image: join(dir, `${kernel.isolation}.img`), size: DISK_BYTES });
    await kernel.load('blk');
    return blockLoad(openBlock(kernel, 'blk0'), DISK_BYTES);
  },
};

// ---- sound -------------------------------------------------------------------

const PCM_RATE = 192_000; // the device's highest
const PCM_CHANNELS = 2;

const soundPlayback: Workload = {
  name: 'sound-playback',
  unit: 'frames/s',
  driver: 'pcm',
  note: `PCM playback at ${PCM_RATE} Hz, ${PCM_CHANNELS} channels of S16_LE (the device's highest rate), 20 ms periods, ` +
    'written 100 ms per write() (the pcm driver on the emulated PCM device, into a WAV file); throughput: frames the ' +
    'device consumed. The device plays in real time, so throughput is bounded by the rate in every mode: the figures ' +
    'that tell the modes apart are CPU seconds and crossings/s.',
  async start(kernel, dir) {
    kernel.addDevice('pcm', { playback: join(dir, `${kernel.isolation}.wav`) });
    await kernel.load('pcm');
    return pcmPlaybackLoad(openPcm(kernel, 'pcm0', { rate: PCM_RATE, channels: PCM_CHANNELS }));
  },
};

// ---- serial ------------------------------------------------------------------

const BAUD = 115_200; // the model's 1.8432 MHz clock at divisor 1: its highest

const serialSend: Workload = {
  name: 'serial-send',
  unit: 'bytes/s',
  driver: 'uart16550',
  note: `bytes written to ttyS0 at ${BAUD} baud 8N1, the highest the emulated 16550A's clock gives (the uart16550 ` +
    `driver), ${SERIAL_CHUNK / 1024} KiB per write(), read at the far end of a pty pair every ${FAR_READ_MS} ms; ` +
    `throughput: bytes that crossed the pty. The line runs in real time, at most ${BAUD / 10} bytes/s in every mode: ` +
    'the figures that tell the modes apart are CPU seconds and crossings/s (an interrupt per 16-byte FIFO).',
  async start(kernel) {
    const pty = ptyPair();
    kernel.addDevice('uart16550', { tty: pty.a });
    await kernel.load('uart16550');
    return serialSendLoad(openSerial(kernel, 'ttyS0', { baudRate: BAUD }), pty);
  },
};

const workloads: Record<Exclude<ClassSuite, 'pci'>, readonly Workload[]> = {
  net: [netSend, netSendLibc],
  block: [blockRandom],
  sound: [soundPlayback],
  serial: [serialSend],
};

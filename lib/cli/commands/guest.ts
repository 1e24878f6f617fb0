// `nooks guest bench pci`: the pci benchmark where this machine has no NIC to
// give it: in a QEMU guest (lib/guest/pci.ts) on QEMU's e1000, through UIO
// and through VFIO, every isolation mode the guest can run (pkey included:
// TCG emulates protection keys). Software emulation makes the absolute
// figures slow: compare the modes' ratios.
import type { WorkloadResult } from '../../bench/classes.js';
import { guestJson, guestNics, runPciGuest } from '../../guest/pci.js';
import { qemuAvailable } from '../../guest/qemu.js';
import { UsageError } from '../args.js';
import { table, toJson, type Context } from './common.js';

export async function guest(ctx: Context): Promise<number> {
  const [what, suite] = ctx.args;
  if (what !== 'bench' || suite !== 'pci') throw new UsageError('usage: nooks guest bench pci [--seconds s] [--json]');
  if (!qemuAvailable()) throw Object.assign(new Error('qemu-system-x86_64 and /bin/busybox are needed (apt-get install qemu-system-x86 busybox-static)'), { code: 'ENOENT' });
  const seconds = ctx.flags.seconds ?? '1';
  if (!/^\d*\.?\d+$/.test(seconds) || !(Number(seconds) > 0)) throw new UsageError(`--seconds must be a positive number, got "${seconds}"`);
  const cli = 'node dist/lib/cli/main.js';
  const command = Object.entries(guestNics)
    .map(([via, address]) => `${cli} pci bind ${address} ${via} >/dev/null && ${cli} bench pci ${address} ${via} --seconds ${seconds} --json`)
    .join(' ; ');
  // the frames go to sockets here that nobody reads: the wire ends there
  const run = await runPciGuest(command, () => undefined, 600_000);
  const results = guestJson(run).filter((o) => o.workload === 'pci-net-send') as unknown as WorkloadResult[];
  if (results.length !== 2) throw Object.assign(new Error(`the guest's benchmark failed:\n${run.output.slice(-3000)}`), { code: 'EGUEST' });
  const [uio, vfio] = results;
  if (ctx.flags.json) {
    ctx.print(toJson({ guest: 'QEMU TCG, e1000 (82540EM), Linux >= 6.12', uio, vfio }));
    return 0;
  }
  for (const [via, r] of [['uio', uio], ['vfio', vfio]] as const) {
    ctx.print(`${via}: ${r.note}`);
    const rows = r.modes.map((m) => (m.supported
      ? [m.isolation, String(m.throughput), String(m.relative ?? ''), String(m.crossingsPerSec), String(m.cpuSeconds)]
      : [m.isolation, 'unsupported', '', '', '']));
    for (const line of table(['isolation', 'frames/s', 'relative', 'crossings/s', 'CPU s'], rows, ['left', 'right', 'right', 'right', 'right'])) ctx.print(line);
    ctx.print('');
  }
  return 0;
}

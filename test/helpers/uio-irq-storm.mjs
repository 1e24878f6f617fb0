// The interrupt storm check of test/guest-e1000-libc.test.ts, run inside its
// QEMU guest (from dist/: `npm run build` first):
//   node test/helpers/uio-irq-storm.mjs <PCI address> <uio-irq.so> <hold ms>
// QEMU's e1000 at the address, bound to uio_pci_generic and attached through
// UIO, under test/fixtures/drivers/uio-irq.c (mprotect). The NIC interrupts
// once and keeps its cause asserted for `hold ms` after the driver got the
// interrupt, as a level interrupt whose handler has not run yet: the guest
// kernel's count of interrupts on the line (/proc/interrupts) must grow by 1,
// not by one for each time nooks unmasked the line too early. Then the cause
// is set again while the line is masked, and comes when the driver unmasks.
// Prints one JSON line, `{ "uioIrq": ... }`.
import { readFileSync } from 'node:fs';
import { Kernel } from '../../dist/lib/index.js';
import { pciBind } from '../../dist/lib/pci.js';
import { print } from './program.mjs';

const [address, path, holdMs] = process.argv.slice(2);
const irq = readFileSync(`/sys/bus/pci/devices/${address}/irq`, 'utf8').trim();

/** The line's row of /proc/interrupts: the interrupts the guest kernel took on it (all CPUs), and its handler's name. */
function line() {
  const row = readFileSync('/proc/interrupts', 'utf8').split('\n').find((l) => l.trimStart().startsWith(`${irq}:`));
  const fields = row.trim().split(/\s+/).slice(1);
  const cpus = fields.filter((f) => /^\d+$/.test(f)).map(Number);
  return { taken: cpus.reduce((a, b) => a + b, 0), name: fields.at(-1) };
}

pciBind(address, 'uio');
const kernel = await Kernel.boot({ isolation: 'mprotect' });
try {
  kernel.attachPci(address, { via: 'uio' });
  const d = await kernel.load(path, { devices: [address] });
  const opened = Number(d.call('irq_open', d.cstring(address)));
  const start = line().taken;
  const since = () => line().taken - start;
  d.call('irq_cause');
  const first = Number(d.call('irq_wait'));
  // its cause held: a line unmasked as the driver was signalled fires again and again meanwhile
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  const held = since();
  d.call('irq_clear');
  d.call('irq_cause'); // set again while the line is masked: it comes when the driver unmasks
  const unmasked = Number(d.call('irq_unmask'));
  const second = Number(d.call('irq_wait'));
  const delivered = since();
  d.call('irq_clear');
  d.call('irq_unmask');
  print({
    uioIrq: {
      address, name: line().name, opened, first, held, unmasked, second, delivered,
      failures: kernel.events().filter((e) => e.event === 'fault').length, state: d.state,
      ms: Math.round(performance.now()), // since this process started: the time the check adds to the guest's run
    },
  });
} finally {
  await kernel.shutdown();
}

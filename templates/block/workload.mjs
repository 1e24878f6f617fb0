// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@ --class block`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it writes the disk and reads it back, and says whether the data came out
// right (a throw is a failure). It uses the emulated disk the driver has
// bound if there is one, and otherwise adds one (the driver probes it then).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBlock } from 'nooks';

const pattern = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

export default async function workload({ kernel, driver }) {
  let dev = kernel.devices().find((d) => d.kind === 'blk' && d.driver === driver.name);
  if (!dev) {
    const dir = mkdtempSync(join(tmpdir(), '@NAME@-workload-'));
    dev = kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 1 << 20 });
    rmSync(dir, { recursive: true });            // the device holds the image open
  }
  const disk = openBlock(kernel, dev.name, { timeoutMs: 5_000 });
  try {
    const writes = Array.from({ length: 32 }, (_, i) => ({ op: 'write', offset: i * 8192, data: pattern(8192, i) }));
    await disk.submitAll(writes);
    await disk.flush();
    const back = await disk.submitAll(writes.map((w) => ({ op: 'read', offset: w.offset, length: 8192 })));
    const bad = back.findIndex((b, i) => !b.equals(pattern(8192, i)));
    return bad < 0 ? true : { ok: false, detail: `block ${bad} read back wrong` };
  } finally {
    disk.close();
  }
}

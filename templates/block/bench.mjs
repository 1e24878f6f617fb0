// The load of @NAME@'s benchmark (written by `nooks new @NAME@ --class block`):
//   npx nooks bench driver --driver build/@NAME@.so --workload @NAME@/bench.mjs --seconds 1 --runs 3
// In each isolation mode nooks loads the driver, calls start(), and reads done()
// at both ends of the measuring time: throughput is done() per second, and
// relative is that over none's. The load is `nooks bench block`'s own
// (blockLoad): random 4 KiB reads and writes, half each, 4 batches of 32 in
// flight through submitAll(); it runs on its own, giving the event loop back.
import { join } from 'node:path';
import { blockLoad, openBlock } from 'nooks';

export const unit = 'requests'; // what done() counts: reads and writes completed

const DISK_BYTES = 64 << 20;

export function start({ kernel, dir }) {
  // an emulated disk of its own in each mode, its image in nooks's scratch space (the page cache: the
  // disk under it is not measured); the driver, loaded already, probes it now
  const dev = kernel.addDevice('blk', { image: join(dir, `${kernel.isolation}.img`), size: DISK_BYTES });
  return blockLoad(openBlock(kernel, dev.name), DISK_BYTES); // stop() closes the disk
}

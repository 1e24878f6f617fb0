// The load of @NAME@'s benchmark (written by `nooks new @NAME@ --class net`):
//   npx nooks bench driver --driver build/@NAME@.so --workload @NAME@/bench.mjs --seconds 1 --runs 3
// In each isolation mode nooks loads the driver, calls start(), and reads done()
// at both ends of the measuring time: throughput is done() per second, and
// relative is that over none's. The load is `nooks bench net`'s own
// (netSendLoad): 64-byte frames, 256 per send(), about 4096 kept waiting.
//
// The receiving end runs no JavaScript: a second emulated e1000 that nobody
// opens, so its receiver is off and its model takes the datagrams off the UDP
// wire and drops them, in C++. A JavaScript socket taking each frame would run
// a callback per frame and measure Node more than the driver.
import { netSendLoad, nicWire, openNet } from 'nooks';

export const unit = 'frames'; // what done() counts: frames the driver reports transmitted

export async function start({ kernel }) {
  // two emulated e1000s of their own in each mode; the driver, loaded already, probes both now
  const partner = kernel.addDevice('e1000'); // eth0: never opened
  kernel.addDevice('e1000', { peer: nicWire(partner.name).local }); // eth1: the NIC under test, wired to it
  const eth = openNet(kernel, 'eth1'); // the second e1000's (each kernel numbers its devices from 0)
  for (const end = Date.now() + 5_000; !eth.link; await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() > end) throw new Error('eth1: no link within 5 s');
  }
  return netSendLoad(eth); // broadcast frames; stop() closes the interface
}

// The load of @NAME@'s benchmark (written by `nooks new @NAME@ --class serial`):
//   npx nooks bench driver --driver build/@NAME@.so --workload @NAME@/bench.mjs --seconds 1 --runs 3
// In each isolation mode nooks loads the driver, calls start(), and reads done()
// at both ends of the measuring time: throughput is done() per second, and
// relative is that over none's. The load is `nooks bench serial`'s own
// (serialSendLoad): 4 KiB per write() to the port, the far end of its line read
// every 10 ms, with no JavaScript per byte. The line runs in real time (115200
// baud: 11520 bytes/s at most in every mode): what tells the modes apart is the
// CPU time and the breakdown per byte.
import { openSerial, serialSendLoad } from 'nooks';
import { ptyPair } from 'nooks/testing';

export const unit = 'bytes'; // what done() counts: bytes that came out at the far end of the line

export function start({ kernel }) {
  const line = ptyPair(); // a real tty line: the UART at one end, the load reading the other
  // a UART of its own in each mode; the driver, loaded already, probes it now and registers its port
  const dev = kernel.addDevice('uart16550', { tty: line.a });
  return serialSendLoad(openSerial(kernel, dev.name, { baudRate: 115200 }), line); // stop() closes both
}

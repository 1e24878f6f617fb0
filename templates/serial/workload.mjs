// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@ --class serial`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it sends bytes both ways between two UARTs and says whether they arrived
// intact (a throw is a failure). It needs to know what is at the far end of a
// line, so it does not use UARTs already on the bus: it adds two of its own,
// joined by a null-modem cable (a pty pair), once per kernel (the driver
// probes them then), and uses them again in later calls.
import { openSerial, serialPorts } from 'nooks';
import { ptyPair } from 'nooks/testing';

let cable;                                        // one per process: a kernel at a time uses it
const uarts = new WeakMap();                      // kernel -> the two devices added to it

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 11 + seed) & 0xff));

export default async function workload({ kernel }) {
  if (!uarts.has(kernel)) {
    cable ??= ptyPair();
    uarts.set(kernel, [kernel.addDevice('uart16550', { tty: cable.a }).name, kernel.addDevice('uart16550', { tty: cable.b }).name]);
  }
  const [a, b] = uarts.get(kernel).map((dev) => serialPorts().find((p) => p.device === dev)?.name);
  if (!a || !b) return { ok: false, detail: 'the driver registered no port for one of the UARTs' };
  const left = openSerial(kernel, a, { baudRate: 115200 });
  const right = openSerial(kernel, b, { baudRate: 115200 });
  try {
    const there = bytes(256, 1);
    const back = bytes(256, 2);
    await Promise.all([left.write(there), right.write(back)]);
    const [gotThere, gotBack] = await Promise.all([right.read(there.length, 5_000), left.read(back.length, 5_000)]);
    if (!gotThere.equals(there)) return { ok: false, detail: `${a} -> ${b}: the bytes came out wrong` };
    return gotBack.equals(back) ? true : { ok: false, detail: `${b} -> ${a}: the bytes came out wrong` };
  } finally {
    // the verdict is the bytes': a close that rejects (ETIMEDOUT after a transfer that failed) must not replace it
    await Promise.allSettled([left.close(), right.close()]);
  }
}

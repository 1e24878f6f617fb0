// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@ --class net`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it sends frames to a link partner and has it send frames back, and says
// whether they all arrived intact (a throw is a failure). It needs to be the
// far end of the wire, so it does not use NICs already on the bus: it adds an
// e1000 of its own whose peer is its UDP socket, once per kernel (the driver
// probes it then), and uses it again in later calls. Frames the driver held
// when it failed are lost, as on a wire: if it fails during the exchange, the
// exchange stops there, waits for nooks to end the recovery and starts over,
// once, on the same interface (which its shadow keeps); if it fails while the
// interface is being opened, the open is tried again once it has recovered.
import { createSocket } from 'node:dgram';
import { netInterfaces, nicWire, openNet } from 'nooks';

const NIC = '52:54:00:00:00:41';
const PEER = '52:54:00:00:00:42';
let peer;                                         // the link partner: one per process, a kernel at a time uses it
const atPeer = [];
let exchanges = 0;                                // each numbers its frames apart: one that arrives late is not the next one's
const nics = new WeakMap();                       // kernel -> its device

function frame(dst, src, seq) {
  const f = Buffer.alloc(14 + 200, seq);
  Buffer.from(dst.replaceAll(':', ''), 'hex').copy(f, 0);
  Buffer.from(src.replaceAll(':', ''), 'hex').copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  return f;
}
/** The frames of `fs` numbered first .. first + 63. */
const numbered = (fs, first) => fs.filter((f) => f.readUInt32BE(14) >= first && f.readUInt32BE(14) < first + 64);
/** Waits for `cond`; false after 5 s without it (a driver that stopped making progress). */
async function until(cond) {
  for (const end = Date.now() + 5_000; !cond(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) return false;
  return true;
}

export default async function workload({ kernel, driver }) {
  if (!peer) {
    peer = createSocket('udp4').on('message', (m) => atPeer.push(m));
    await new Promise((r) => peer.bind(0, '127.0.0.1', r));
    peer.unref();                                // it does not keep the process alive
  }
  if (!nics.has(kernel)) nics.set(kernel, kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC }).name);
  const device = nics.get(kernel);
  // every fault is followed by one end of its recovery: recovered, fallback or disabled
  const count = (events) => kernel.events().filter((e) => events.includes(e.event) && e.driver === driver.name).length;
  const faults = () => count(['fault']);
  let eth;
  for (let attempt = 1; eth === undefined; attempt++) {
    const before = faults();
    try {
      eth = openOwn(kernel, device);
    } catch (e) {
      // the driver failed while opening it (EDRIVERFAILED: no handle yet): once it is back, open it again, once
      if (attempt === 2 || e.code !== 'EDRIVERFAILED') throw e;
      const recovered = () => faults() > before && count(['recovered', 'fallback', 'disabled']) >= faults();
      if (!(await until(recovered))) return { ok: false, detail: 'the recovery did not end' };
    }
  }
  if (!eth) return { ok: false, detail: `the driver registered no interface for ${device}` };
  try {
    for (let attempt = 1; ; attempt++) {
      const before = faults();
      const result = await exchange(eth, device, () => faults() !== before);
      if (result === true || attempt === 2 || faults() === before) return result;
      if (!(await until(() => count(['recovered', 'fallback', 'disabled']) >= faults()))) return { ok: false, detail: 'the recovery did not end' };
    }
  } finally {
    eth.close();
  }
}

/** The interface the driver registered for `device`, opened; null if none. */
function openOwn(kernel, device) {
  for (const name of netInterfaces()) {
    const h = openNet(kernel, name);
    if (h.info().device === device) return h; // opens no other after it: one that throws leaves nothing open
    h.close();
  }
  return null;
}

/** 64 frames each way; stops early, not ok, once `failed()`: the driver failed meanwhile. */
async function exchange(eth, device, failed) {
  const first = 128 * ++exchanges;               // sent: first.., received: first + 64..
  const received = [];
  const onFrames = (fs) => received.push(...fs);
  eth.on('frames', onFrames);
  atPeer.length = 0;
  const sent = () => numbered(atPeer, first);
  const got = () => numbered(received, first + 64);
  const stopped = { ok: false, detail: 'the driver failed during the exchange' };
  try {
    if (!(await until(() => eth.link || failed()))) return { ok: false, detail: `${eth.name}: no link` };
    if (failed()) return stopped;
    const out = Array.from({ length: 64 }, (_, i) => frame(PEER, NIC, first + i));
    eth.send(out);
    if (!(await until(() => sent().length >= out.length || failed()))) return { ok: false, detail: `${sent().length} of ${out.length} frames sent` };
    if (sent().length < out.length) return stopped;
    if (sent().some((f, i) => !f.equals(out[i]))) return { ok: false, detail: 'a frame sent came out wrong' };
    const port = Number(nicWire(device).local.split(':')[1]);
    const back = Array.from({ length: 64 }, (_, i) => frame(NIC, PEER, first + 64 + i));
    for (const f of back) peer.send(f, port, '127.0.0.1');
    if (!(await until(() => got().length >= back.length || failed()))) return { ok: false, detail: `${got().length} of ${back.length} frames received` };
    if (got().length < back.length) return stopped;
    return got().every((f, i) => f.equals(back[i])) ? true : { ok: false, detail: 'a frame received came out wrong' };
  } finally {
    eth.off('frames', onFrames);
  }
}

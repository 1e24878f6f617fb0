// Tests of the @NAME@ network driver (written by `nooks new @NAME@ --class
// net`), with Node's own test runner: `node --test @NAME@/@NAME@.test.mjs`.
// Build the driver first: `npx nooks build @SOURCE@ -o build/@NAME@.so`.
//
// The emulated e1000's wire is UDP: each Ethernet frame is one datagram. The
// other end of the wire here is a UDP socket of the test (the link partner).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kernel, nicWire, openNet } from 'nooks';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
const NIC = '52:54:00:00:00:01';
const PEER = '52:54:00:00:00:02';
let kernel;
let driver;
let peer;                                         // the link partner
let nicPort;                                      // where the NIC receives
let eth;
const atPeer = [];                                // frames the NIC sent
const received = [];                              // frames the NIC received, through the driver

/** An Ethernet frame: destination, source, an experimental ethertype and 100 bytes numbered by `seq`. */
function frame(dst, src, seq) {
  const f = Buffer.alloc(14 + 100, seq);
  Buffer.from(dst.replaceAll(':', ''), 'hex').copy(f, 0);
  Buffer.from(src.replaceAll(':', ''), 'hex').copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  return f;
}
async function until(cond, what) {
  for (const end = Date.now() + 5_000; !cond(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  peer = createSocket('udp4').on('message', (m) => atPeer.push(m));
  await new Promise((r) => peer.bind(0, '127.0.0.1', r));
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
  const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC });
  nicPort = Number(nicWire(dev.name).local.split(':')[1]);
  driver = await kernel.load(so);                // probes the NIC: eth0
  eth = openNet(kernel, 'eth0');
  eth.on('frames', (frames) => received.push(...frames));
  await until(() => eth.link, 'the link');
});
after(async () => {
  eth?.close();
  await kernel?.shutdown();
  peer?.close();
});

test('the MAC address comes from the NIC\'s EEPROM', () => {
  assert.equal(eth.info().permanentMac, NIC);
});

test('sends frames: they reach the link partner as they were', async () => {
  atPeer.length = 0;
  const frames = Array.from({ length: 50 }, (_, i) => frame(PEER, NIC, i));
  assert.equal(eth.send(frames), 50);
  await until(() => atPeer.length === 50, '50 frames at the peer');
  atPeer.forEach((f, i) => assert.deepEqual(f, frames[i]));
});

test('receives frames sent to its address', async () => {
  received.length = 0;
  for (let i = 0; i < 20; i++) peer.send(frame(NIC, PEER, i), nicPort, '127.0.0.1');
  peer.send(frame('52:54:00:00:00:99', PEER, 99), nicPort, '127.0.0.1'); // not ours: filtered by the NIC
  peer.send(frame(NIC, PEER, 20), nicPort, '127.0.0.1');   // after it: frames arrive in order, so 99 would show first
  await until(() => received.length >= 21, '21 frames received');
  assert.deepEqual(received.map((f) => f.readUInt32BE(14)), Array.from({ length: 21 }, (_, i) => i));
});

test('the driver is restarted: the interface stays open and goes on', async () => {
  driver.recover();                              // as if it had failed: torn down, restarted, eth0 reopened
  assert.equal(driver.state, 'running');
  atPeer.length = 0;
  eth.send([frame(PEER, NIC, 7)]);               // waits in the kernel until the interface is back
  await until(() => atPeer.length === 1, 'a frame after the restart');
  received.length = 0;
  peer.send(frame(NIC, PEER, 8), nicPort, '127.0.0.1');
  await until(() => received.length === 1, 'a frame received after the restart');
});

// A program for test/listener-errors.test.ts (run from dist/: `npm run build`
// first), in a process of its own: what it checks are uncaught exceptions,
// which would end a test run. An application's listener of a device class's
// events throws:
//   node listener-throws.mjs net     two handles of eth0, the first's 'frames' listener throws; then its 'detached'
//                                    listener throws in kernel.shutdown()
//   node listener-throws.mjs serial  the port's 'data' listener throws on the event delivered with the shadow's restore
// Prints what the other listeners, the kernel and 'uncaughtException' saw, as one JSON object.
import { createSocket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';
import { SerialPort as FarEnd } from 'serialport';
import { Kernel, nicWire, openNet, openSerial, serialPorts } from '../../dist/lib/index.js';
import { ptyPair } from '../../dist/lib/testing.js';
import { print } from './program.mjs';

const uncaught = [];
/** Polls `cond` every 10 ms, for 5 s at most: the report then says what had happened. */
async function awhile(cond) {
  for (let ms = 0; !cond() && ms < 5_000; ms += 10) await new Promise((r) => setTimeout(r, 10));
}

process.on('uncaughtException', (e) => uncaught.push(e.message));

async function net() {
  const peer = createSocket('udp4');
  await new Promise((r) => peer.bind(0, '127.0.0.1', r));
  const kernel = await Kernel.boot({ isolation: 'mprotect' });
  const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: '52:54:00:aa:bb:01' });
  await kernel.load('e1000');
  const a = openNet(kernel, 'eth0');
  const b = openNet(kernel, 'eth0');
  let aCalls = 0;
  let bFrames = 0;
  a.on('frames', () => {
    aCalls++;
    throw new Error(`a's frames listener threw (${aCalls})`);
  });
  b.on('frames', (frames) => (bFrames += frames.length));
  const port = Number(nicWire(dev.name).local.split(':')[1]);
  const sent = 50;
  for (let i = 0; i < sent; i++) {
    const f = Buffer.alloc(100);
    f.fill(0xff, 0, 6); // broadcast: both handles get it
    f.writeUInt32BE(i, 14);
    peer.send(f, port, '127.0.0.1');
  }
  await awhile(() => bFrames === sent);
  await new Promise((r) => setImmediate(r)); // the last batch's error is thrown once the batch is delivered
  const framesThrown = uncaught.length;
  a.removeAllListeners('frames');
  a.on('detached', () => {
    throw new Error("a's detached listener threw");
  });
  let bDetached = '';
  b.on('detached', (e) => (bDetached = e.message));
  let shutdown = 'done';
  await kernel.shutdown().catch((e) => (shutdown = `threw: ${e.message}`));
  await new Promise((r) => setImmediate(r));
  let again = 'booted';
  await Kernel.boot({ isolation: 'mprotect' }).then((k) => k.shutdown(), (e) => (again = `${e.code}: ${e.message}`));
  peer.close();
  return { sent, bFrames, aCalls, framesThrown, shutdown, bDetached, again, uncaught: uncaught.slice(framesThrown) };
}

async function serial() {
  const kernel = await Kernel.boot({ isolation: 'mprotect' });
  const pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  const drv = await kernel.load('uart16550');
  const far = new FarEnd({ path: pty.b, baudRate: 115200, autoOpen: false });
  await new Promise((res, rej) => far.open((e) => (e ? rej(e) : res())));
  let farGot = '';
  far.on('data', (b) => (farGot += b.toString()));
  const tty = openSerial(kernel, 'ttyS0', { baudRate: 115200 });
  tty.on('data', () => {
    throw new Error('the data listener threw');
  });
  const info = () => serialPorts().find((p) => p.name === 'ttyS0');
  const before = info().rxBytes;
  const line = openSync(pty.b, 'r+'); // written synchronously: the JavaScript thread is kept busy next
  writeSync(line, 'hello');
  // the JavaScript thread stays busy until the kernel has the bytes: their 'rx' event waits, and the recovery's
  // restore (queued by recover(), on this thread) is delivered in the same batch, after it
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 5000 && info().rxBytes < before + 5; i++) Atomics.wait(sab, 0, 0, 1);
  const rxBeforeRecover = info().rxBytes - before;
  drv.recover();
  await awhile(() => !info().restarting);
  const restarting = info().restarting;
  await tty.write('ping'); // taken by the kernel, restored or not
  await awhile(() => farGot.includes('ping'));
  tty.closeNow();
  await new Promise((r) => far.close(() => r()));
  await kernel.shutdown();
  pty.close();
  closeSync(line);
  return { rxBeforeRecover, restarting, farGot, uncaught };
}

const scenarios = { net, serial };
// the scenario's own failure is no listener's: it ends the program (the handler above would keep it waiting)
// and so does its report: a shutdown a listener left half done would keep it running
scenarios[process.argv[2]]().then((report) => {
  print(report);
  process.exit(0);
}, (e) => {
  console.error(e);
  process.exit(1);
});

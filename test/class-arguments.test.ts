// What applications pass the device classes and the kernel, checked where it
// enters (lib/classes/args.ts): a wrong type, a fraction, or a number the
// addon would wrap is refused with the class's error, EINVAL, naming the
// device (or the call) and the argument; an option given as undefined is one
// not given; a timeout is an integer 1..2^31-1 ms everywhere. Before: the
// addon's TypeErrors ("A number was expected"), its internal codes
// (ERR_INVALID_ARG_TYPE "netSend: argument 3 must be an array"), "Cannot read
// properties of undefined", numbers wrapped (mtu 1400 + 2^32 set 1400,
// channels 2.5 made 5-byte frames), and timeouts of Infinity, 2^31, NaN or -5
// that became a 1 ms timer or none.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockError, Kernel, NetError, openBlock, openCapture, openNet, openPcm, openSerial, PcmError, SerialError, type BlockOp, type Driver, type NetConfig, type PcmOptions, type Termios } from '../lib/index.js';
import { ptyPair } from '../lib/testing.js';
import { errorOf, rejectionOf, suiteIsolation } from './helpers/util.js';

let kernel: Kernel;
let pty: ReturnType<typeof ptyPair>;
const dir = mkdtempSync(join(tmpdir(), 'nooks-class-arguments-'));

beforeAll(async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  kernel.addDevice('e1000', { mac: '52:54:00:aa:bb:01' });
  kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 1 << 20 });
  kernel.addDevice('pcm', { playback: join(dir, 'played.wav') });
  pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  for (const driver of ['e1000', 'blk', 'pcm', 'uart16550']) await kernel.load(driver);
});
afterAll(async () => {
  await kernel?.shutdown();
  pty?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Values as JavaScript callers pass them, past the types. */
const untyped = <T>(v: unknown): T => v as T;
const invalid = (message: string) => expect.objectContaining({ code: 'EINVAL', message });

describe('net', () => {
  it('configure: a setting given as undefined is not given; a wrong type or a number that would wrap is EINVAL naming it, and nothing is kept', () => {
    const eth = openNet(kernel, 'eth0');
    try {
      eth.configure({ mtu: undefined, txTimeoutMs: undefined }); // before: TypeError 'A number was expected'
      expect(eth.info().mtu).toBe(1500);
      const cases: [unknown, string][] = [
        [{ mtu: 1400 + 2 ** 32 }, 'eth0: mtu must be an integer 0..4294967295, got 4294968696'], // before: MTU 1400
        [{ mtu: 1400.5 }, 'eth0: mtu must be an integer 0..4294967295, got 1400.5'],
        [{ mac: 42 }, 'eth0: mac must be a string, got 42'],
        [{ multicast: '01:00:5e:00:00:01' }, 'eth0: multicast must be an array, got "01:00:5e:00:00:01"'],
        [{ multicast: [1] }, 'eth0: multicast[0] must be a string, got 1'],
        [{ promiscuous: 'yes' }, 'eth0: promiscuous must be true or false, got "yes"'],
        [{ txTimeoutMs: -1 }, 'eth0: txTimeoutMs must be an integer 0..2147483647, got -1'], // before: 4294967295 ms
        [{ mtu: 1400, mut: 1400 }, "eth0: unknown setting 'mut' (mtu, mac, promiscuous, allmulti, multicast, txTimeoutMs)"],
        [null, 'eth0: settings must be an object, got null'],
      ];
      for (const [config, message] of cases) expect(errorOf(() => eth.configure(untyped<NetConfig>(config)), NetError), message).toEqual(invalid(message));
      expect(eth.info().mtu).toBe(1500);
    } finally {
      eth.close();
    }
  });

  it('send takes an array of frames; openNet a name', () => {
    const eth = openNet(kernel, 'eth0');
    try {
      expect(errorOf(() => eth.send(untyped<Buffer[]>(Buffer.alloc(60))), NetError)).toEqual(invalid('eth0: send(frames) must be an array, got a Buffer'));
    } finally {
      eth.close();
    }
    expect(errorOf(() => openNet(kernel, untyped<string>(0)), NetError)).toEqual(invalid('openNet: the interface name must be a string, got 0'));
  });
});

describe('serial', () => {
  it('setTermios: a setting given as undefined keeps its value; a number that is no integer, or would wrap, is EINVAL naming it', () => {
    const port = openSerial(kernel, 'ttyS0', { baudRate: undefined }); // before: TypeError 'A number was expected'
    try {
      port.setTermios({ baudRate: 19200, dataBits: undefined });
      const cases: [unknown, string][] = [
        [{ baudRate: 2 ** 32 + 9600 }, 'ttyS0: baudRate must be an integer 0..4294967295, got 4294976896'], // before: 9600 set
        [{ baudRate: 19200.7 }, 'ttyS0: baudRate must be an integer 0..4294967295, got 19200.7'],
        [{ dataBits: 7.9 }, 'ttyS0: dataBits must be an integer 0..4294967295, got 7.9'],
        [{ baudRate: 'fast' }, 'ttyS0: baudRate must be an integer 0..4294967295, got "fast"'],
        [null, 'ttyS0: line settings must be an object, got null'],
      ];
      for (const [t, message] of cases) expect(errorOf(() => port.setTermios(untyped<Termios>(t)), SerialError), message).toEqual(invalid(message));
      expect(port.settings).toEqual({ baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none' });
      expect(errorOf(() => port.setModemLines(untyped({ dtr: 1 })), SerialError)).toEqual(invalid('ttyS0: dtr must be true or false, got 1'));
    } finally {
      port.closeNow();
    }
    // refused before the open: the port is not left open
    expect(errorOf(() => openSerial(kernel, 'ttyS0', untyped<Termios>(null)), SerialError)).toEqual(invalid('ttyS0: line settings must be an object, got null'));
    expect(errorOf(() => openSerial(kernel, untyped<string>(0)), SerialError)).toEqual(invalid('openSerial: the port name must be a string, got 0'));
    openSerial(kernel, 'ttyS0').closeNow();
  });

  it('write takes bytes or a string; read and drain a count and a timeout of 1..2^31-1 ms, refused at once', async () => {
    const port = openSerial(kernel, 'ttyS0');
    try {
      expect(await rejectionOf(port.write(untyped(42)), SerialError)).toEqual(invalid('ttyS0: write(data) must be a Buffer or Uint8Array, got 42'));
      // before: read(1, NaN) and read(1, Infinity) never timed out, read(NaN) timed out saying "0 of NaN bytes"
      for (const [min, timeoutMs, message] of [
        [1, NaN, 'ttyS0: read(timeoutMs) must be an integer 1..2147483647, got NaN'],
        [1, Infinity, 'ttyS0: read(timeoutMs) must be an integer 1..2147483647, got Infinity'],
        [1, 2 ** 31, 'ttyS0: read(timeoutMs) must be an integer 1..2147483647, got 2147483648'],
        [NaN, 200, 'ttyS0: read(min) must be an integer 1..9007199254740991, got NaN'],
      ] as const) expect(await rejectionOf(port.read(min, timeoutMs), SerialError)).toEqual(invalid(message));
      expect(await rejectionOf(port.drain(-5), SerialError)).toEqual(invalid('ttyS0: drain(timeoutMs) must be an integer 1..2147483647, got -5'));
    } finally {
      port.closeNow();
    }
  });
});

describe('sound', () => {
  it('openPcm: the options are required, each an integer that would not wrap; mute takes a boolean, write bytes', async () => {
    const cases: [unknown, unknown, string][] = [
      ['pcm0', undefined, 'pcm0: options must be an object, got undefined'], // before: "Cannot read properties of undefined"
      ['pcm0', { rate: 2 ** 32 + 48000, channels: 2 }, 'pcm0: rate must be an integer 0..4294967295, got 4295015296'],
      ['pcm0', { rate: 48000, channels: 2.5 }, 'pcm0: channels must be an integer 0..4294967295, got 2.5'], // before: 5-byte frames
      ['pcm0', { rate: 48000, channels: 2, periods: '4' }, 'pcm0: periods must be an integer 0..4294967295, got "4"'],
      [42, { rate: 48000, channels: 2 }, 'openPcm: the device name must be a string, got 42'],
    ];
    for (const [name, options, message] of cases)
      expect(errorOf(() => openPcm(kernel, untyped<string>(name), untyped<PcmOptions>(options)), PcmError), message).toEqual(invalid(message));
    // before: openCapture's errors named openPcm
    expect(errorOf(() => openCapture(kernel, untyped<string>(42), { rate: 8000, channels: 1 }), PcmError))
      .toEqual(invalid('openCapture: the device name must be a string, got 42'));
    const pcm = openPcm(kernel, 'pcm0', { rate: 48000, channels: 2, periods: undefined });
    try {
      expect(errorOf(() => pcm.mute(untyped('yes')), PcmError)).toEqual(invalid('pcm0: mute(on) must be true or false, got "yes"'));
      expect(errorOf(() => pcm.setVolume(50.5), PcmError)).toEqual(invalid('pcm0: volume must be an integer 0..100, got 50.5'));
      expect(await rejectionOf(pcm.write(untyped(new Uint16Array(4))), PcmError)).toEqual(invalid('pcm0: write(frames) must be a Buffer or Uint8Array, got a Uint16Array'));
    } finally {
      pcm.close();
    }
  });
});

describe('block', () => {
  it('openBlock: a timeout that is no integer 1..2^31-1 ms is EINVAL, not a 1 ms timer', () => {
    for (const t of [Infinity, 2 ** 31, -5, NaN, 0, 1.5])
      expect(errorOf(() => openBlock(kernel, 'blk0', { timeoutMs: t }), BlockError), String(t)).toEqual(invalid(`blk0: timeoutMs must be an integer 1..2147483647, got ${t}`));
    openBlock(kernel, 'blk0', { timeoutMs: undefined }).close();
    expect(errorOf(() => openBlock(kernel, untyped<string>(42)), BlockError)).toEqual(invalid('openBlock: the device name must be a string, got 42'));
    expect(errorOf(() => openBlock(kernel, 'blk0', untyped(null)), BlockError)).toEqual(invalid('blk0: options must be an object, got null'));
  });

  it('submitAll takes an array of operations, each a read, a write or a flush', async () => {
    const disk = openBlock(kernel, 'blk0');
    try {
      expect(await rejectionOf(disk.submitAll(untyped<BlockOp[]>(null)), BlockError)).toEqual(invalid('blk0: submitAll(ops) must be an array, got null'));
      expect(await rejectionOf(disk.submitAll(untyped<BlockOp[]>([{ op: 'flush' }, 5])), BlockError)).toEqual(invalid('blk0: operation 1 must be an object { op, ... }, got 5'));
      expect(await rejectionOf(disk.submitAll(untyped<BlockOp[]>([{ op: 'bogus', offset: 0 }])), BlockError))
        .toEqual(invalid('blk0: the op of operation 0 must be \'read\', \'write\' or \'flush\', got "bogus"'));
    } finally {
      disk.close();
    }
  });
});

describe('kernel and drivers', () => {
  let crashy: Driver;
  beforeAll(async () => {
    crashy = await kernel.load('crashy');
  });

  it('load takes a name or a path; call a function name; batch an array of calls', async () => {
    expect(await rejectionOf(kernel.load(untyped<string>(42)))).toEqual(invalid('kernel.load: the driver (a name or a path) must be a string, got 42 [EINVAL]'));
    expect(errorOf(() => crashy.call(untyped<string>(42)))).toEqual(invalid('crashy: the function name must be a string, got 42 [EINVAL]'));
    expect(errorOf(() => crashy.batch(untyped(null)))).toEqual(invalid('crashy: batch(calls) must be an array, got null [EINVAL]'));
    expect(errorOf(() => crashy.batch(untyped([['add', 1, 2], 5])))).toEqual(invalid('crashy: deferred call 1 must be an array, got 5 [EINVAL]'));
    expect(crashy.batch([['add', 1, 2]])).toEqual([3]);
  });
});

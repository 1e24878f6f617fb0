// A port the serial shadow parked waits for its own driver: a give-up ends
// what that driver's load parked (its serial), never what is parked under the
// slot it left. A fallback driver is loaded before its predecessor is
// unloaded, so it never has that slot: here the fallback registers no port,
// and an unrelated driver takes the freed slot and is unloaded. Matched by
// slot, that unload ended ttyS0 with its own reason ('the driver failed and
// will not be restarted: ticker was unloaded'); what ends it is the
// fallback's 2 s without registering it (native/shadow). As test/sound-parked-slot and
// block-shadow's 'a parked disk outlives...' for their classes.
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openSerial, serialPorts, type SerialError } from '../lib/index.js';
import { ptyPair } from '../lib/testing.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
let pty: ReturnType<typeof ptyPair> | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  pty?.close();
});

it('a parked port outlives the unload of a later driver that took its failed driver\'s slot', async () => {
  kernel = await Kernel.boot({
    isolation: suiteIsolation,
    policy: { default: defaultPolicy.default, drivers: new Map([['uart16550', { ...fallbackTo('null'), shadow: true }]]) },
  });
  pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  const uart = await kernel.load('uart16550');
  const slot = uart.id;
  const port = openSerial(kernel, 'ttyS0');
  const errors: SerialError[] = [];
  port.on('error', (e) => errors.push(e));
  uart.recover(); // the fallback, null, registers no port: ttyS0 stays parked for uart16550's load
  await until(() => kernel!.events().some((e) => e.event === 'fallback'), 'the fallback driver in place of uart16550', 10_000);
  expect(uart.id).not.toBe(slot);
  const ttyS0 = () => serialPorts().find((p) => p.name === 'ttyS0');
  expect(ttyS0()).toMatchObject({ restarting: true });

  const later = await kernel.load('ticker');
  expect(later.id).toBe(slot);
  later.unload(); // its give-up: nothing of uart16550's load
  // what ends ttyS0 is the fallback's 2 s rule (a slow machine only delays it), never ticker's unload
  await until(() => errors.length > 0, 'the fallback\'s rule to end ttyS0', 10_000);
  expect(errors.map((e) => e.message)).toEqual(['ttyS0: device gone (fallback null.so of driver uart16550 ran without registering it)']);
  expect(kernel.log().filter((l) => l.text.includes('ticker was unloaded'))).toEqual([]); // an ended port logs why
}, 20_000);

// A UART driver that registers its port after its init has returned (test/fixtures/drivers/serial-late.c: from a
// work item, once the test lets it), and an application that opens the port as soon as it is there: the open's
// startup crosses into the driver while the registration may still be in the kernel. The port is the driver's before
// it is anyone's, so the driver's own calls in that startup (uart_insert_chars) find it. Before, an open that came
// first failed the driver: bad-call, "not a uart_port object the driver holds".
import { afterEach, expect, it } from 'vitest';
import { Kernel, openSerial, serialPorts } from '../lib/index.js';
import { ptyPair, serialHoldRegister } from '../lib/testing.js';
import { pattern } from './helpers/data.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { Far } from './helpers/far-end.js';
import { logEvents, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
let pty: ReturnType<typeof ptyPair> | undefined;
let far: Far | undefined;
afterEach(async () => {
  await far?.close();
  await kernel?.shutdown();
  pty?.close();
  [kernel, pty, far] = [undefined, undefined, undefined];
});

it('a port registered later, from a work item, opened at once: the open\'s startup finds the port the driver\'s', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  const drv = await kernel.load(fixtureDriver('serial-late'));
  far = await Far.open(pty.b);
  expect(serialPorts().some((p) => p.name === 'ttyS0')).toBe(false); // not registered yet
  // The registration returns to the driver only once an open has set the port up: the open's startup runs while
  // the registration is in the kernel, as on a starved CPU.
  serialHoldRegister('ttyS0');
  expect(drv.call('register_now')).toBe(1);
  await until(() => logEvents(kernel!, 'test-register-held').length > 0, 'the registration held, ttyS0 published');
  const port = openSerial(kernel, 'ttyS0', { baudRate: 115200 });
  const ttyS0 = () => serialPorts().find((p) => p.name === 'ttyS0')!;
  // restarting: the driver failed in the open (its fault then reaches the kernel's events)
  await until(() => !ttyS0().restarting || kernel!.events().length > 0, 'the open set up, or the driver\'s failure in it');
  expect(kernel.events().map((e) => e.fault?.message)).toEqual([]);
  expect(ttyS0()).toMatchObject({ driver: 'serial-late', open: true, restarting: false });
  expect(drv.state).toBe('running');
  const sent = pattern(64, 1);
  await port.write(sent);
  expect((await far.take(64)).equals(sent)).toBe(true);
  expect(logEvents(kernel, 'test-register-held')).toEqual([{ kind: 'test-register-held', device: 'ttyS0' }]);
  port.close();
});

// An unshadowed serial driver's failure detaches its ports, and the error the
// application gets (its 'error' event, its reads and writes) says what the
// recovery agent decided for that failure: restarted, replaced by its
// fallback, or not restarted and why. The kernel's text says only that the
// driver failed; the class adds the decision as the net class does
// (lib/classes/common.ts withDecision, Kernel.recoverFromClassCall). Before,
// the kernel wrote "reopen it once the driver has restarted" at the failure,
// also of a driver its policy would not restart.
import { afterEach, expect, it } from 'vitest';
import { defaultPolicy, Kernel, openSerial, serialPorts, type Driver, type DriverPolicy, type SerialError, type SerialPort } from '../lib/index.js';
import { ptyPair } from '../lib/testing.js';
import { native, type NativeFault } from '../lib/native.js';
import { fallbackTo, suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
let pty: ReturnType<typeof ptyPair> | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
  pty?.close();
  pty = undefined;
});

// uart16550 unshadowed under `policy`, ttyS0 open, its errors collected.
async function boot(policy: DriverPolicy): Promise<{ drv: Driver; port: SerialPort; errors: SerialError[] }> {
  kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...policy, shadow: false }, drivers: new Map() } });
  pty = ptyPair();
  kernel.addDevice('uart16550', { tty: pty.a });
  const drv = await kernel.load('uart16550');
  const port = openSerial(kernel, 'ttyS0');
  const errors: SerialError[] = [];
  port.on('error', (e) => errors.push(e));
  return { drv, port, errors };
}

// The port's error once the driver failed in a call of its own (bad_insert: a buffer that is not its own, handed to
// the kernel), which the agent decides on at once: the detach reaches the port after the decision.
async function detachedBy(policy: DriverPolicy): Promise<{ drv: Driver; port: SerialPort; error: SerialError }> {
  const { drv, port, errors } = await boot(policy);
  const reading = port.read(1, 10_000).catch((e: unknown) => e); // pending when the port fails
  expect(() => drv.call('bad_insert')).toThrow(expect.objectContaining({ kind: 'bad-call' }));
  await until(() => errors.length > 0, 'the port\'s error event');
  expect(errors).toHaveLength(1);
  const [error] = errors;
  expect(error.code).toBe('EIO');
  expect(await reading).toBe(error);
  await expect(port.write('x')).rejects.toBe(error);
  return { drv, port, error };
}

const failed = 'ttyS0: the port was detached: uart16550 failed (uart_insert_chars(buf=0x1000): pointer outside the driver\'s memory)';

// Before: 'ttyS0: uart16550 failed (...): the port was detached; reopen it once the driver has restarted', whatever the agent decided.
it('restarted: the error says the driver runs again, and a new open works', async () => {
  const { drv, error } = await detachedBy(defaultPolicy.default);
  expect(error.message).toBe(`${failed} and was restarted: open it again`);
  expect(drv.state).toBe('running');
  await until(() => serialPorts().some((p) => p.name === 'ttyS0' && p.attached), 'ttyS0 registered again');
  openSerial(kernel!, 'ttyS0').closeNow();
});

it('replaced by its fallback: the error names the fallback', async () => {
  const { drv, error } = await detachedBy(fallbackTo('null'));
  expect(error.message).toBe(`${failed} and was replaced by its fallback null: open it again`);
  expect(drv.state).toBe('running');
});

it('not restarted (the policy says disable): the error says so, and why', async () => {
  const { drv, error } = await detachedBy({ ...defaultPolicy.default, action: 'disable' });
  expect(error.message).toBe(`${failed} and will not be restarted: uart16550 failed (bad-call) and its recovery policy says disable`);
  expect(drv.state).toBe('disabled');
  expect(() => openSerial(kernel!, 'ttyS0')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
});

// Before: recover() counted a new failure and disabled the driver again, and the first failure's message named the
// new reason: 'and will not be restarted: uart16550 failed (aborted) and its recovery policy says disable'.
it('not restarted: a recover() of the disabled driver is refused, counts no failure, and changes no reason given', async () => {
  const { drv } = await detachedBy({ ...defaultPolicy.default, action: 'disable' });
  const fault = { ...(kernel!.events()[0].fault as NativeFault) };
  fault.load = native().loadSerial(fault.domain); // as the class's failure carries it
  const said = 'and will not be restarted: uart16550 failed (bad-call) and its recovery policy says disable';
  expect(kernel!.recoverFromClassCall(fault)).toBe(said);
  expect(() => drv.recover()).toThrow(expect.objectContaining({ code: 'EUNAVAILABLE', message: 'uart16550: restart failed: uart16550 is disabled' }));
  expect(kernel!.events().map((e) => e.event)).toEqual(['fault', 'disabled']);
  expect(kernel!.recoverFromClassCall(fault)).toBe(said);
  expect(drv.state).toBe('disabled');
});

it('not restarted (past the policy\'s limit): the error says so, and why', async () => {
  const { drv, error } = await detachedBy({ ...defaultPolicy.default, maxFailures: 1 });
  expect(error.message).toBe(`${failed} and will not be restarted: uart16550 failed 1 times within 60000 ms (bad-call last): its recovery policy gave up`);
  expect(drv.state).toBe('disabled');
});

// A fault on the driver's interrupt thread: the port's detach and the fault reach JavaScript in either order; the
// first hands the failure to the agent. The application's error, a write's (start_tx aborted) or the detach's, says
// what the agent decided.
it('a fault on the interrupt thread of a driver its policy disables: the error says it will not be restarted', async () => {
  const { drv, port, errors } = await boot({ ...defaultPolicy.default, action: 'disable' });
  expect(drv.call('crash_on_next_tx')).toBe(0);
  await port.write('x').catch(() => undefined); // its transmit interrupt faults: the port fails, the write maybe too
  await until(() => errors.length > 0, 'the port\'s error event', 10_000);
  expect(errors[0]).toMatchObject({ code: 'EIO', message: expect.stringMatching(/^ttyS0: .*uart16550 failed.* and will not be restarted: uart16550 failed \(segv\) and its recovery policy says disable$/) });
  expect(drv.state).toBe('disabled');
});

// When a kernel's 'log' listeners hear its lines (docs/api.md, the events on the kernel): in a later turn of the
// event loop, except that kernel.shutdown() gives them what is left before it resolves. Before, the lines of the
// shutdown itself (a driver's module_exit, the class's "removed the port") came in a setImmediate: a process that
// exited right after `await kernel.shutdown()` never heard them.
import { afterEach, expect, it } from 'vitest';
import { Kernel } from '../lib/index.js';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});

/** A kernel with uart16550 loaded for a UART: it logs at the load and at the shutdown. */
async function bootSerial(): Promise<Kernel> {
  kernel = await Kernel.boot({ isolation: 'mprotect' });
  kernel.addDevice('uart16550');
  await kernel.load('uart16550');
  return kernel;
}

it('kernel.shutdown() resolves with every line heard, its own included, the kernel down for the listener', async () => {
  const k = await bootSerial();
  const heard: string[] = [];
  const kernelThen: string[] = []; // what a use of the kernel gave each time the listener ran
  k.on('log', (l) => {
    heard.push(l.text);
    try {
      k.devices();
      kernelThen.push('up');
    } catch (e) {
      kernelThen.push((e as { code?: string }).code ?? 'an error without a code');
    }
  });
  await k.shutdown(); // no turn of the event loop after it: what a process exiting right after hears
  expect(heard).toContain('ttyS0: uart16550 removed the port');
  expect(heard).toEqual(k.log().map((l) => l.text));
  expect(new Set(kernelThen)).toEqual(new Set(['EUNLOADED']));
});

it('a listener hears the lines not yet delivered when it subscribes, those kernel.log() returned already too', async () => {
  const k = await bootSerial();
  const history = k.log().map((l) => l.text); // the load's lines, their delivery still to come
  const heard: string[] = [];
  k.on('log', (l) => heard.push(l.text));
  await new Promise((r) => setImmediate(r));
  expect(history.length).toBeGreaterThan(0);
  expect(heard).toEqual(history);
});

// Before: the lines taken after a setImmediate was queued joined the delivery of those taken before it, and were
// heard before it: nooks exec's "restarted" came after the next run's first lines, or its "failed" after them.
it('the lines of each take are heard in a turn of their own: what was queued between two takes comes between them', async () => {
  const k = await bootSerial();
  const heard: string[] = [];
  k.on('log', (l) => heard.push(l.text));
  const first = k.log().map((l) => l.text); // the load's lines
  setImmediate(() => heard.push('queued between'));
  k.addDevice('uart16550'); // the driver takes it at once: its lines
  const second = k.log().map((l) => l.text).slice(first.length);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(second.length).toBeGreaterThan(0);
  expect(heard).toEqual([...first, 'queued between', ...second]);
});

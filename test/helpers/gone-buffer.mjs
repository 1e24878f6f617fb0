// A program for test/gone-buffer.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a kernel call's fault that kills
// the process fails the test, not the test run:
//   node gone-buffer.mjs <isolation> <driver path> <read|futex>
// The driver (test/fixtures/drivers/gone-buffer.c) hands a read, or a futex
// wait, a buffer on the stack of a thread of its that then ends, while the
// call is stalled in its wait (the test hook stallNextWait); then the wait
// goes on and the call touches that buffer. Prints what it saw as JSON.
import { Kernel } from '../../dist/lib/index.js';
import { releaseStalledWaits, stallNextWait } from '../../dist/lib/testing.js';

const [isolation, path, how] = process.argv.slice(2);
const kernel = await Kernel.boot({ isolation });
const logged = (text) => kernel.log().filter((l) => l.text.includes(text)).length;

async function until(cond, what) {
  for (let ms = 0; !cond(); ms += 10) {
    if (ms > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const d = await kernel.load(path);
const stalled = (n, what) => until(() => logged(`${d.name}: test stall`) === n, what);
// The owner's wait stalled first, then let go: it is past the stall's hook, which the waiter's wait then gets.
stallNextWait(d);
if (d.call('start_owner') !== 0) throw new Error('start_owner failed');
await stalled(1, 'the owner in its wait, its buffer lent');
const lent = Number(d.call('lent_at'));
releaseStalledWaits();
stallNextWait(d);
if (d.call('start_waiter', how === 'futex' ? 1 : 0) !== 0) throw new Error('start_waiter failed');
await stalled(2, 'the waiter stalled in its wait'); // past the call's entry check
const seen = { ownerEnded: d.call('end_owner') }; // its stack goes with it
if (how === 'read') seen.arrived = d.call('arrive');
releaseStalledWaits();
await until(() => kernel.events().some((e) => e.event === 'recovered'), "the driver's recovery");
const fault = kernel.events().find((e) => e.event === 'fault').fault;
seen.kind = fault.kind;
seen.namesTheBuffer = fault.message.includes(`0x${lent.toString(16)}`);
seen.message = fault.message.replace(/0x[0-9a-f]+/, 'ADDR');
seen.state = d.state;
seen.wentOn = logged('gone-buffer: waiter went on'); // the call's -EFAULT ended the thread's crossing
d.unload();
await kernel.shutdown();
process.stdout.write(`${JSON.stringify(seen)}\n`);

// A program for test/dead-stack.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a kernel access to a stack that
// went, which kills the process, fails the test, not the test run:
//   node dead-stack.mjs <isolation> <driver path> <scenario>...
// For each scenario a fresh load of the driver
// (test/fixtures/drivers/dead-stack.c) calls one export: `lend` with the
// object lent (timer, work, mutex, spinlock), `register_on_stack` with the
// class object (disk, interface, port, pcm), or the export of that name.
// Prints what it saw, by scenario, as one JSON object.
import { Kernel } from '../../dist/lib/index.js';
import { print, until } from './program.mjs';

const lent = ['timer', 'work', 'mutex', 'spinlock']; // the fixture's enum lent
const classObjects = ['disk', 'interface', 'port', 'pcm']; // register_on_stack's order
const kept = new Set(['timer', 'work', 'lock', 'mutex']); // the kinds a thread's end forgets
const [isolation, path, ...scenarios] = process.argv.slice(2);
// Every scenario may fail the driver once: none is the failure too many that disables it.
const kernel = await Kernel.boot({ isolation, policy: { default: { maxFailures: scenarios.length + 1 } } });

// Calls the scenario's export in d, a fresh load, and waits for d's recovery if it failed.
async function run(d, name) {
  const events = kernel.events().length;
  const seen = {};
  try {
    if (lent.includes(name)) seen.returned = d.call('lend', lent.indexOf(name));
    else if (classObjects.includes(name)) seen.returned = d.call('register_on_stack', classObjects.indexOf(name));
    else seen.returned = d.call(name);
  } catch (e) {
    seen.kind = e.kind;
    seen.message = e.message.replace(/0x[0-9a-f]+/, 'ADDR');
    await until(() => kernel.events().slice(events).some((e) => e.event === 'recovered'), "the driver's recovery");
  }
  seen.kept = d.objects().filter((o) => kept.has(o.type)).map((o) => o.type);
  seen.state = d.state;
  seen.ok = d.call('ok');
  return seen;
}

const seen = {};
for (const name of scenarios) {
  const d = await kernel.load(path);
  seen[name] = await run(d, name);
  d.unload();
}
await kernel.shutdown();
print(seen);

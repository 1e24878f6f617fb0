// A program for test/host-signals.test.ts (run from dist/: `npm run build`
// first), in a process of its own: a handler that kills the process fails
// the test, not the test run.
//   node host-signals.mjs <isolation> <driver path> <scenario>
// Signals interrupt driver code on the thread that calls the driver (the
// driver sends them to its own thread: test/fixtures/drivers/host-signals.c),
// each with a handler of Node's. Scenarios:
// - main: the kernel on the main thread; SIGWINCH's handler (libuv's)
//   installed before the boot, SIGUSR2's after it (its first listener),
//   SIGCHLD's by a spawn after the application removed every SIGCHLD
//   listener. Prints what the listeners saw and which signals a thread the
//   kernel starts for the driver blocks, as one JSON object.
// - worker: the kernel in a worker; the main thread's first SIGUSR2
//   listener and its spawn install the handlers, which no event on the
//   worker tells of. Prints what the main thread's listener saw.
// - breakOnSigint: vm's breakOnSigint leaves Node's own SIGINT handler
//   (it restores the terminal and dies of the signal again), installed
//   without an event. Prints whether it had SA_ONSTACK, then raises SIGINT:
//   the process must die of it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import vm from 'node:vm';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Kernel } from '../../dist/lib/index.js';
import { signalHandlerOnAltStack } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

const [isolation, path, scenario] = isMainThread ? process.argv.slice(2) : workerData;
const { SIGWINCH, SIGUSR2, SIGCHLD, SIGINT } = constants.signals;

/** Whether the handlers of `sigs` got SA_ONSTACK (under pkey, by the kernel's sweep) within 5 s: false goes on, to raise them all the same. */
async function onAltStack(...sigs) {
  if (isolation !== 'pkey') return true;
  const all = () => sigs.every(signalHandlerOnAltStack);
  return until(all, 'SA_ONSTACK').then(() => true, () => false);
}

if (scenario === 'main') {
  const seen = { SIGWINCH: 0, SIGUSR2: 0 };
  const count = (sig) => () => seen[sig]++;
  process.on('SIGWINCH', count('SIGWINCH'));
  const kernel = await Kernel.boot({ isolation });
  const d = await kernel.load(path);
  const sigchldListeners = process.listenerCount('SIGCHLD');
  process.removeAllListeners('SIGCHLD'); // an application's, which it may take for all its own
  process.on('SIGUSR2', count('SIGUSR2'));
  const child = spawn('cat', { stdio: ['pipe', 'ignore', 'ignore'] }); // runs until its input ends
  const raised = {};
  for (const sig of ['SIGWINCH', 'SIGUSR2', 'SIGCHLD']) raised[sig] = d.call('raise_here', constants.signals[sig]);
  await until(() => seen.SIGWINCH > 0 && seen.SIGUSR2 > 0, 'the listeners');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.stdin.end();
  await exited;
  const abortSignal = 37; // SIGRTMIN + 3 (native/trap/trap.cc), glibc's SIGRTMIN being 34
  const blocked = Object.fromEntries([...['SIGINT', 'SIGTERM', 'SIGUSR2', 'SIGCHLD', 'SIGWINCH', 'SIGSEGV', 'SIGBUS'].map((s) => [s, constants.signals[s]]),
    ['abort', abortSignal]].map(([name, sig]) => [name, d.call('thread_blocks', sig)]));
  const state = d.state;
  await kernel.shutdown();
  print({ sigchldListeners, raised, seen, blocked, state });
} else if (scenario === 'worker') {
  const worker = new Worker(new URL(import.meta.url), { workerData: [isolation, path, 'in-worker'] });
  const next = () => new Promise((resolve) => worker.once('message', resolve));
  await next(); // booted, the driver loaded
  let seen = 0;
  process.on('SIGUSR2', () => seen++);
  const child = spawn('cat', { stdio: ['pipe', 'ignore', 'ignore'] });
  const flagged = await onAltStack(SIGUSR2, SIGCHLD);
  worker.postMessage('raise');
  const { raised, state } = await next();
  await until(() => seen > 0, 'the listener');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.stdin.end();
  await exited;
  worker.postMessage('shut down');
  await new Promise((resolve) => worker.once('exit', resolve));
  print({ flagged, raised, seen, state });
} else if (scenario === 'in-worker') {
  const kernel = await Kernel.boot({ isolation });
  const d = await kernel.load(path);
  parentPort.postMessage('booted');
  await new Promise((resolve) => parentPort.once('message', resolve));
  const raised = { SIGUSR2: d.call('raise_here', SIGUSR2), SIGCHLD: d.call('raise_here', SIGCHLD) };
  parentPort.postMessage({ raised, state: d.state });
  await new Promise((resolve) => parentPort.once('message', resolve));
  await kernel.shutdown();
  parentPort.close();
} else if (scenario === 'breakOnSigint') {
  const kernel = await Kernel.boot({ isolation });
  const d = await kernel.load(path);
  vm.runInThisContext('1', { breakOnSigint: true });
  print({ flagged: await onAltStack(SIGINT) });
  d.call('raise_here', SIGINT);
  print({ survived: true }); // not reached: Node's handler dies of SIGINT
} else {
  throw new Error(`unknown scenario '${scenario}'`);
}

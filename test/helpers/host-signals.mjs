// A program for test/host-signals.test.ts (run from dist/: `npm run build`
// first), in a process of its own: a handler that kills the process fails
// the test, not the test run.
//   node host-signals.mjs <isolation> <driver path>
// Signals interrupt driver code on the thread that calls the driver (the
// driver sends them to its own thread: test/fixtures/drivers/host-signals.c),
// each with a handler of Node's (libuv's): SIGWINCH's, installed before the
// boot; SIGUSR2's, installed after it (its first listener); SIGCHLD's,
// installed by a spawn. Prints what the listeners saw and which signals a
// thread the kernel starts for the driver blocks, as one JSON object.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Kernel } from '../../dist/lib/index.js';
import { print, until } from './program.mjs';

const [isolation, path] = process.argv.slice(2);
const seen = { SIGWINCH: 0, SIGUSR2: 0 };
const count = (sig) => () => seen[sig]++;
process.on('SIGWINCH', count('SIGWINCH'));
const kernel = await Kernel.boot({ isolation });
const d = await kernel.load(path);
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
print({ raised, seen, blocked, state });

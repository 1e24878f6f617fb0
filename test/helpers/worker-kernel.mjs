// A program for test/workers.test.ts (run from dist/: `npm run build` first):
// `node worker-kernel.mjs <scenario> <isolation>` prints what it saw; the
// test checks the output and that the process ended by itself, not by a signal.
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Kernel } from '../../dist/lib/index.js';

const [scenario, isolation] = process.argv.slice(2);
const lib = new URL('../../dist/lib/index.js', import.meta.url).href;

/** Runs `body` (the text of an async function taking Kernel and parentPort) in a worker; resolves with its exit code. */
function inWorker(body, onMessage = () => {}) {
  const w = new Worker(`const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(lib)}).then(async ({ Kernel }) => { ${body} });`, { eval: true });
  w.on('message', (m) => onMessage(m, w));
  w.on('error', (e) => console.log(`worker error: ${e.code ?? ''} ${e.message}`));
  return new Promise((resolve) => w.on('exit', resolve));
}

/** CPU ticks so far of every thread of this process but the main one, and of its child processes (driver hosts). */
function busyTicks() {
  let ticks = 0;
  const tasks = (pid) => {
    try {
      return readdirSync(`/proc/${pid}/task`);
    } catch {
      return []; // the process ended meanwhile
    }
  };
  const add = (pid) => {
    for (const t of tasks(pid)) {
      if (t === String(process.pid)) continue;
      try {
        const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ');
        ticks += Number(f[11]) + Number(f[12]);
        for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) add(c);
      } catch {
        // the thread (or process) ended meanwhile
      }
    }
  };
  add(process.pid);
  return ticks;
}

if (scenario === 'query' || scenario === 'boot') {
  // The main thread's kernel must outlive a worker that queries, or fails to boot a second kernel.
  const kernel = await Kernel.boot({ isolation });
  const crashy = await kernel.load('crashy');
  const code = await inWorker(scenario === 'query'
    ? 'console.log(`worker pkuSupported: ${typeof Kernel.pkuSupported()}`);'
    : 'await Kernel.boot({ isolation: "mprotect" }).catch((e) => console.log(`worker boot: ${e.code} ${e.message}`));');
  console.log(`worker exited ${code}`);
  console.log(`main call: ${crashy.call('add', 2, 3)}`);
  console.log(`main domains: ${kernel.domains().map((d) => `${d.name} ${d.state}`).join(', ')}`);
  await kernel.shutdown();
} else if (scenario === 'terminate') {
  // A worker terminated while it is inside a driver that then hits the watchdog.
  let before = 0;
  const code = await inWorker(`
    const kernel = await Kernel.boot({ isolation: ${JSON.stringify(isolation)} });
    const crashy = await kernel.load('crashy', { timeBudgetMs: 1500 });
    parentPort.postMessage('entering');
    crashy.call('infinite_loop');`, (m, w) => {
    before = busyTicks();
    // Terminate once the driver has spun for 0.2 s: by then the worker is inside it.
    const poll = setInterval(() => {
      if (busyTicks() - before < 20) return;
      clearInterval(poll);
      console.log('terminating the worker inside the driver');
      void w.terminate();
    }, 10);
  });
  console.log(`worker exited ${code}`);
  // Its kernel went with it: this thread may boot one.
  const kernel = await Kernel.boot({ isolation });
  console.log(`main call: ${(await kernel.load('crashy')).call('add', 2, 3)}`);
  await kernel.shutdown();
}

// The workload of @NAME@'s fault-injection campaigns (written by `nooks new --program @NAME@`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks calls load() for the program's devices, loads it with a fault
// injected into its code (main starts), then calls the default export: it
// pulls and plugs the NIC's cable and says whether the program saw each
// change, a line per interrupt (a throw is a failure). It leaves the program
// running: the trial stops it. If the program fails meanwhile, nooks restarts
// it from main: the work starts over, once, on the restarted program.
import { nicCable } from 'nooks';

const nics = new WeakMap();                       // kernel -> the NIC it gave the program
const STARTED = ': started; Ctrl-C or SIGTERM stops it';
const WAIT_MS = 5_000;                            // a line that has not come by then never will

/**
 * Before the load: the program's NIC, as `nooks exec --device e1000` gives it one. Its arguments after its name,
 * as `nooks exec ... -- -t 500` gives them, would go here too (`argv: ['-t', '500']`: at every load and restart),
 * or after -- on the command line (`nooks inject build/@NAME@.so --workload @NAME@/workload.mjs -- -t 500`).
 */
export function load({ kernel }) {
  const nic = kernel.addDevice('e1000');
  nics.set(kernel, nic);
  return { devices: [nic.address] };
}

export default async function workload({ kernel, driver }) {
  const nic = nics.get(kernel);
  const runs = () => lines(kernel, driver).filter((l) => l.endsWith(STARTED)).length;
  for (let attempt = 1; ; attempt++) {
    const before = runs();
    const result = await work(kernel, driver, nic);
    if (result === true || attempt === 2 || runs() === before) return result; // not restarted meanwhile: its verdict
  }
}

/** The program's lines (the kernel log's tagged with its name). */
const lines = (kernel, driver) => kernel.log().filter((l) => l.source === driver.name).map((l) => l.text);

/** Its lines since main last started. */
function thisRun(kernel, driver) {
  const all = lines(kernel, driver);
  const start = all.findLastIndex((l) => l.endsWith(STARTED));
  return start < 0 ? [] : all.slice(start + 1);
}

/** Waits until main's current run has printed `line` more often than `count` times; false after WAIT_MS. */
async function printed(kernel, driver, line, count) {
  const seen = () => thisRun(kernel, driver).filter((l) => l.endsWith(line)).length > count;
  for (const end = Date.now() + WAIT_MS; !seen(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > end) return false;
  return true;
}

async function work(kernel, driver, nic) {
  nicCable(nic.name, true);
  if (!(await printed(kernel, driver, ': link up', 0))) return { ok: false, detail: 'no "link up" line: the program did not bring the link up' };
  for (let i = 0; i < 3; i++) {
    for (const up of [false, true]) {
      const line = `: link ${up ? 'up' : 'down'}`;
      const count = thisRun(kernel, driver).filter((l) => l.endsWith(line)).length;
      nicCable(nic.name, up);
      if (!(await printed(kernel, driver, line, count))) return { ok: false, detail: `the cable ${up ? 'plugged' : 'pulled'}: no "${line.slice(2)}" line` };
    }
  }
  return true;
}

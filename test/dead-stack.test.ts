// Objects the kernel keeps, in memory that goes away under it: a driver's
// thread ends, and its stack is inaccessible from then on. A timer, work
// item, mutex or spinlock on that stack is forgotten with it, so that a call
// naming one later (mod_timer, schedule_work, mutex_unlock, spin_unlock) is
// a bad-call and the driver is recovered; before, the kernel wrote into the
// stack (mod_timer's expires, mutex_unlock's and spin_unlock's owner) and
// the process died of SIGSEGV. A class object (disk, interface, port, pcm),
// which the kernel reads at any time, may not lie on a stack at all: its
// registration is a bad-call. Objects on a thread's stack that it is done
// with before it ends stay legal. In one process of its own per isolation
// (test/helpers/dead-stack.mjs); not under `none`, which checks nothing.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { bootableIsolations, programReport } from './helpers/util.js';

const path = fixtureDriver('dead-stack', { posix: true }); // test/fixtures/drivers/dead-stack.c
const program = join(packageRoot, 'test', 'helpers', 'dead-stack.mjs');
const contained = bootableIsolations.filter((i) => i !== 'none');

const notHeld = 'not a %s object the driver holds';
const onStack = "on a thread's stack: the kernel keeps this object, which must outlive its threads";
// Each scenario and the fault it must give.
const faults = [
  ['timer', 'mod_timer(timer=ADDR)', notHeld.replace('%s', 'timer')],
  ['work', 'schedule_work(work=ADDR)', notHeld.replace('%s', 'work')],
  ['mutex', 'mutex_unlock(lock=ADDR)', notHeld.replace('%s', 'mutex')],
  ['spinlock', 'spin_unlock(lock=ADDR)', notHeld.replace('%s', 'lock')],
  ['disk', 'blk_register_disk(disk=ADDR)', onStack],
  ['interface', 'register_netdev(dev=ADDR)', onStack],
  ['port', 'uart_add_one_port(port=ADDR)', onStack],
  ['pcm', 'nooks_snd_pcm_register(pcm=ADDR)', onStack],
] as const;

describe.each(contained)('isolation %s: kernel objects on a stack that goes', (isolation) => {
  let seen: Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    seen = await programReport([program, isolation, path, ...faults.map(([name]) => name), 'kept_until_end'], 60_000);
  }, 70_000);

  it.each(faults)('%s is a bad-call naming %s, and the driver is recovered', (name, call, why) => {
    expect(seen[name]).toEqual({ kind: 'bad-call', message: `dead-stack: ${call}: ${why}`, kept: [], state: 'running', ok: 42 });
  });

  it("objects a thread is done with before it ends are legal, and forgotten with its stack", () => {
    expect(seen.kept_until_end).toEqual({ returned: 0, kept: [], state: 'running', ok: 42 });
  });
});

// The object forgotten with its stack while its callback runs: before, the
// teardown waited for the timer or worker thread only for the objects the
// domain still held, so it freed the domain with the callback inside it (no
// thread left running, the timers of every driver stopped; under process the
// host died when the callback's call returned).
const running = join(packageRoot, 'test', 'helpers', 'dead-stack-running.mjs');
describe.each(contained)('isolation %s: a callback running when its object\'s stack goes', (isolation) => {
  it.each(['timer', 'work'])('%s: the unload waits for it and leaves its thread running, keeping the domain until it returns', async (kind) => {
    expect(await programReport([running, isolation, path, kind], 40_000)).toEqual({ leftRunning: true, kept: true });
  }, 60_000);
});

// An event-loop driver written as DPDK's EAL interrupt and alarm threads and a
// VFIO PMD are (test/fixtures/drivers/event-loop.c: plain C, no nooks header)
// on the emulated 82540EM, under mprotect and process: its interrupt thread
// runs one epoll loop over the device's VFIO interrupt eventfd, a timerfd
// alarm re-armed at an absolute time and a self-pipe the control path writes
// to when it adds or removes a source (EPOLL_CTL_ADD/DEL at run time) or
// changes the alarm's period, the control path handing it the work through a
// semaphore under a writer-preferring rwlock and waiting for its
// acknowledgement on a CLOCK_MONOTONIC condition. All by progress: k
// interrupts, k alarms, k sources. A fault on the thread is recovered with no
// thread and no file left, and the driver starts again; one while no call is
// inside leaves it failed until the agent restarts it, and a call meanwhile
// is refused saying to wait for that.
import { describe, expect, it } from 'vitest';
import { applyFault, DriverUnavailable, planFault, type Isolation } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { tasks, tasksBackTo } from './helpers/tasks.js';
import { errorOf, faultOf } from './helpers/util.js';

const path = fixtureDriver('event-loop', { posix: true });
const k = 5;
const ICR_LSC = 1 << 2, ICR_RXT0 = 1 << 7;

describe.each<Isolation>(['mprotect', 'process'])('an event-loop driver (DPDK style), isolation \'%s\'', (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it('interrupts, alarms and pipe wakes through one epoll loop; a fault on its thread is recovered with nothing left', async () => {
    const nic = kernel().addDevice('e1000');
    const d = await kernel().load(path, { devices: [nic.address], env: { EVL_PCI_ADDR: nic.address } });
    const before = tasks();
    let st = d.alloc(64);
    const stats = () => {
      expect(d.call('evl_stats', st)).toBe(0);
      const b = d.read(st, 64);
      const [interrupts, causes, alarms, wakes, userEvents, linkUp] = [0, 1, 2, 3, 4, 5].map((i) => Number(b.readBigUInt64LE(8 * i)));
      return { interrupts, causes, alarms, wakes, userEvents, linkUp };
    };
    const wait = (interrupts: number, alarms: number, userEvents: number) => d.call('evl_wait', interrupts, alarms, userEvents, 1000); // under the time budget: -ETIMEDOUT, not the watchdog

    expect(d.call('evl_start', 5)).toBe(0);
    expect(tasks()).toBe(before + 1); // the interrupt thread
    expect(wait(1, 0, 0)).toBe(0); // link up: LSC
    expect(d.objects()).toContainEqual(expect.objectContaining({ type: 'thread', label: 'evl-intr' })); // named before its loop
    for (let i = 0; i < k; i++) {
      expect(d.call('evl_kick')).toBe(0); // the device raises RXT0
      expect(wait(2 + i, 0, 0)).toBe(0);
    }
    expect(wait(0, k, 0)).toBe(0);
    expect(d.call('evl_set_alarm_period', 2)).toBe(0); // through the pipe: the thread re-arms its timerfd
    expect(wait(0, 2 * k, 0)).toBe(0);
    for (let i = 0; i < k; i++) {
      const slot = d.call('evl_add_user_source'); // a pipe wake: EPOLL_CTL_ADD on the thread
      expect(slot).toBe(2);
      expect(d.call('evl_signal', slot)).toBe(0);
      expect(wait(0, 0, i + 1)).toBe(0);
      expect(d.call('evl_remove_source', slot)).toBe(0); // another: EPOLL_CTL_DEL and close
    }
    const s = stats();
    expect(s.interrupts).toBeGreaterThanOrEqual(k + 1);
    expect(s.causes).toBe(ICR_LSC | ICR_RXT0);
    expect(s.alarms).toBeGreaterThanOrEqual(2 * k);
    expect({ wakes: s.wakes, userEvents: s.userEvents, linkUp: s.linkUp }).toEqual({ wakes: 1 + 2 * k, userEvents: k, linkUp: 1 });
    expect(d.objects().filter((o) => o.type === 'file').map((o) => o.label).sort()).toEqual([
      '/dev/vfio/0', '/dev/vfio/vfio', 'anon_inode:[eventfd]', 'anon_inode:[eventpoll]', 'anon_inode:[timerfd]', 'pipe', 'pipe',
      `vfio-device:${nic.address}`,
    ]);

    const fault = faultOf(() => d.call('evl_crash_thread')); // the thread faults; the control path waited for it
    expect(fault.kind).toBe('segv');
    expect(fault.message).toMatch(/ in event-loop\.so:(interrupt_thread|on_wake)\+0x[0-9a-f]+$/); // a static function, named from .symtab
    expect(d.state).toBe('running');
    await tasksBackTo(before);
    expect(d.objects().filter((o) => o.type !== 'device')).toEqual([]);

    st = d.alloc(64); // library-style: as loaded again
    expect(d.call('evl_start', 5)).toBe(0);
    expect(wait(1, 1, 0)).toBe(0);
    expect(stats()).toMatchObject({ interrupts: 1, causes: ICR_LSC, linkUp: 1 });
    await d.unload(); // atexit's cleanup stops and joins the thread
    await tasksBackTo(before);
  });

  it('a call into it between its thread\'s fault and the restart is refused saying to wait for the restart', async () => {
    const nic = kernel().addDevice('e1000');
    const d = await kernel().load(path, { devices: [nic.address], env: { EVL_PCI_ADDR: nic.address } });
    expect(d.call('evl_start', 1)).toBe(0);
    applyFault(kernel(), d, planFault(path, { seed: 1, type: 'null-deref', fn: 'on_alarm' })); // the next alarm faults, on the thread
    const recovered = new Promise((resolve) => kernel().once('recovered', resolve));
    const giveUp = Date.now() + 5000; // only if the fault never came
    while (d.state === 'running' && Date.now() < giveUp); // the agent restarts it on this thread: not before this test yields
    expect(d.state).toBe('failed');
    const refused = errorOf(() => d.call('evl_kick'), DriverUnavailable);
    expect(refused.code).toBe('EUNAVAILABLE');
    expect(refused.message).toBe(`${d.name} is failed: calls are refused until it is restarted (it failed on a thread of its own: wait for the kernel's 'recovered' event, or for driver.state 'running')`);
    await recovered;
    expect(d.state).toBe('running');
    expect(d.call('evl_start', 1)).toBe(0);
    expect(d.call('evl_wait', 1, 1, 0, 1000)).toBe(0);
    await d.unload();
  });
});

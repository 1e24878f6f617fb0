// Threads in the POSIX personality (docs/drivers.md, "Threads"): each
// pthread_create is a kernel thread the kernel starts for the driver, running
// inside its domain, held as a `thread` object, stopped and released at
// recovery and unload. A driver built at test time, library-style, in every
// isolation mode of the default project; what needs containment (a thread's
// fault) is tested where faults are contained, stopping a thread that never
// returns and the time budget in every mode ('none' unwinds driver code too).
// Every wait ends by progress (a counter, a flag), never by a timer, but for
// the timed waits themselves.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { tasks, tasksBackTo } from './helpers/tasks.js';
import { faultOf, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- two threads, a mutex and two conds: producer and consumer over a ring of 8 */
#define RING 8
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static long ring[RING], total;
static unsigned long head, tail;

static void *producer(void *arg)
{
	for (long i = 1; i <= total; i++) {
		pthread_mutex_lock(&lock);
		while (tail - head == RING)
			pthread_cond_wait(&not_full, &lock);
		ring[tail++ % RING] = i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

/* The sum of what it took, or -1 if anything came out of order. */
static void *consumer(void *arg)
{
	long sum = 0, next = 1, out_of_order = 0;

	for (long n = 0; n < total; n++) {
		long v;

		pthread_mutex_lock(&lock);
		while (tail == head)
			pthread_cond_wait(&not_empty, &lock);
		v = ring[head++ % RING];
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		out_of_order += v != next++;
		sum += v;
	}
	return (void *)(out_of_order ? -1 : sum);
}

long produce_consume(long n)
{
	pthread_t p, c;
	void *pr, *cr;

	total = n;
	head = tail = 0;
	if (pthread_create(&c, NULL, consumer, NULL) || pthread_create(&p, NULL, producer, (void *)0x5eed))
		return -1;
	if (pthread_join(p, &pr) || pthread_join(c, &cr))
		return -2;
	return pr == (void *)0x5eed ? (long)cr : -3;
}

/* ---- pthread_exit, pthread_self, pthread_equal, join's errors */
static pthread_t seen_self;
static int self_join;

static void leave(long v)
{
	pthread_exit((void *)v);
}

static void *exiting(void *arg)
{
	seen_self = pthread_self();
	self_join = pthread_join(pthread_self(), NULL);
	leave((long)arg + 1);
	return NULL;
}

long exit_value(long v)
{
	pthread_t t;
	void *r;

	if (pthread_create(&t, NULL, exiting, (void *)v) || pthread_join(t, &r))
		return -1;
	if (!pthread_equal(t, seen_self) || pthread_equal(t, pthread_self()))
		return -2;
	if (pthread_join(t, NULL) != ESRCH || pthread_detach(t) != ESRCH)
		return -3;
	/* joining itself: a driver thread, or the call's */
	if (self_join != EDEADLK || pthread_join(pthread_self(), NULL) != EDEADLK)
		return -4;
	return (long)r;
}

long exit_outside(void)
{
	pthread_exit(NULL);
}

/* ---- errno and keys per thread */
static pthread_mutex_t stage_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stage_moved = PTHREAD_COND_INITIALIZER;
static int stage, destroyed;
static pthread_key_t key;

static void await_stage(int s)
{
	pthread_mutex_lock(&stage_lock);
	while (stage < s)
		pthread_cond_wait(&stage_moved, &stage_lock);
	pthread_mutex_unlock(&stage_lock);
}

static void set_stage(int s)
{
	pthread_mutex_lock(&stage_lock);
	stage = s;
	pthread_cond_broadcast(&stage_moved);
	pthread_mutex_unlock(&stage_lock);
}

static void destroy(void *v)
{
	destroyed += (int)(long)v;
}

static void *first(void *arg)
{
	errno = EDOM;
	pthread_setspecific(key, (void *)1);
	set_stage(1);
	await_stage(2); /* the second sets its own meanwhile */
	return (void *)(long)(errno == EDOM && pthread_getspecific(key) == (void *)1);
}

static void *second(void *arg)
{
	int ok;

	await_stage(1);
	ok = errno == 0 && pthread_getspecific(key) == NULL;
	errno = ERANGE;
	pthread_setspecific(key, (void *)2);
	ok = ok && errno == ERANGE && pthread_getspecific(key) == (void *)2;
	set_stage(2);
	return (void *)(long)ok;
}

/* first * 1000 + second * 100 + the destructors' sum * 10 + the caller's own errno and value kept */
long errno_per_thread(void)
{
	pthread_t a, b;
	void *ra, *rb;
	long r;

	stage = destroyed = 0;
	if (pthread_key_create(&key, destroy))
		return -1;
	errno = EINTR;
	pthread_setspecific(key, (void *)100);
	if (pthread_create(&a, NULL, first, NULL) || pthread_create(&b, NULL, second, NULL) || pthread_join(a, &ra) || pthread_join(b, &rb))
		return -2;
	r = (long)ra * 1000 + (long)rb * 100 + destroyed * 10 + (errno == EINTR && pthread_getspecific(key) == (void *)100);
	pthread_key_delete(key);
	return r;
}

/* ---- per-thread state without a kernel call: errno as failing calls set it,
 * thread-specific values, pthread_self, a recursive mutex taken again */
static pthread_key_t state_key;
static pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static __attribute__((noinline)) int fail(int e)
{
	errno = e;
	return -1;
}

/* n rounds of each; the rounds that went wrong (0) */
long state_rounds(long n)
{
	pthread_t me = pthread_self();
	long wrong = 0;

	pthread_mutex_lock(&recursive);
	for (long i = 0; i < n; i++) {
		int e = (int)(i % 100) + 1;

		wrong += fail(e) != -1 || errno != e;
		wrong += pthread_setspecific(state_key, (void *)(i + 1)) || pthread_getspecific(state_key) != (void *)(i + 1);
		wrong += !pthread_equal(pthread_self(), me);
		wrong += pthread_mutex_lock(&recursive) || pthread_mutex_unlock(&recursive);
	}
	pthread_mutex_unlock(&recursive);
	return wrong;
}

long state_key_create(void)
{
	return pthread_key_create(&state_key, NULL);
}

long set_state(long v)
{
	errno = (int)v;
	return pthread_setspecific(state_key, (void *)v);
}

/* errno * 1000 + the key's value */
long get_state(void)
{
	return errno * 1000 + (long)pthread_getspecific(state_key);
}

static void *leave_state(void *arg)
{
	set_state(7);
	return arg;
}

static void *state_seen(void *arg)
{
	return (void *)get_state();
}

/* A thread that ended left errno and a value; the next thread sees neither (it may have the same domain stack). */
long later_thread_state(void)
{
	pthread_t t;
	void *r;

	if (pthread_create(&t, NULL, leave_state, NULL) || pthread_join(t, NULL) || pthread_create(&t, NULL, state_seen, NULL) || pthread_join(t, &r))
		return -1;
	return (long)r;
}

/* ---- threads that never return on their own: one waits on a cond, one yields */
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static volatile int quit; /* volatile: sched_yield is a leaf (<sched.h>), whose call does not make the compiler read it again */
static volatile long waits, yields;
static pthread_t waiter_thread, yielder_thread;

/* Until told to end (stop_loopers; unload does not tell them). */
static void *waiter(void *arg)
{
	pthread_mutex_lock(&wait_lock);
	while (!quit) {
		waits++;
		pthread_cond_wait(&wake, &wait_lock);
	}
	pthread_mutex_unlock(&wait_lock);
	return arg;
}

static void *yielder(void *arg)
{
	while (!quit) {
		yields++;
		sched_yield();
	}
	return arg;
}

/* The names' results: 0 each, ERANGE for one past 15 bytes. */
long start_loopers(void)
{
	if (pthread_create(&waiter_thread, NULL, waiter, (void *)41) || pthread_create(&yielder_thread, NULL, yielder, NULL))
		return -1;
	return pthread_setname_np(waiter_thread, "cond-waiter") * 1000 + pthread_setname_np(yielder_thread, "yielder") * 100 +
	       pthread_setname_np(yielder_thread, "sixteen bytes!!!");
}

long loops(void)
{
	return waits > 0 ? yields : 0;
}

/* What the waiter returned * 10 + what the yielder did, once told to end. */
long stop_loopers(void)
{
	void *w, *y;

	pthread_mutex_lock(&wait_lock);
	quit = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&wait_lock);
	return pthread_join(waiter_thread, &w) || pthread_join(yielder_thread, &y) ? -1 : (long)w * 10 + (long)y;
}

/* pthread_getname_np's answers: 0, or minus the failing line. inherited: what the calling (host) thread is called,
 * which a thread it starts and never names is called too, as on Linux. */
static void *returns(void *arg)
{
	return arg;
}

long getname_answers(const char *inherited)
{
	pthread_t t;
	char name[16], small[15];

	if (pthread_create(&t, NULL, returns, NULL))
		return -__LINE__;
	if (pthread_getname_np(t, small, sizeof(small)) != ERANGE)
		return -__LINE__;
	if (pthread_getname_np(t, name, sizeof(name)) || strcmp(name, inherited))
		return -__LINE__;
	if (pthread_setname_np(t, "fifteen bytes!!") || pthread_getname_np(t, name, sizeof(name)) || strcmp(name, "fifteen bytes!!"))
		return -__LINE__;
	if (pthread_join(t, NULL) || pthread_getname_np(t, name, sizeof(name)) != ESRCH)	/* joined: gone */
		return -__LINE__;
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) != ESRCH)	/* the host's thread, not the driver's */
		return -__LINE__;
	return 0;
}

/* A thread that faults once the yielder has run a while (by its progress). */
static void *crasher(void *arg)
{
	while (yields < 1000)
		sched_yield();
	*(volatile int *)arg = 1;
	return NULL;
}

long start_crasher(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, crasher, NULL);
}

/* ---- the time budget: a detached thread that naps, one that never waits */
static volatile int naps_done;

static void *napper(void *arg)
{
	for (long i = 0; i < (long)arg; i++)
		usleep(1000);
	naps_done = 1;
	return NULL;
}

long start_napper(long naps)
{
	pthread_attr_t a;
	pthread_t t;
	int state;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_getdetachstate(&a, &state);
	return state == PTHREAD_CREATE_DETACHED ? pthread_create(&t, &a, napper, (void *)naps) : -1;
}

long napped(void)
{
	return naps_done;
}

static void *spinner(void *arg)
{
	for (;;)
		yields++;
	return arg;
}

long spun(void)
{
	return yields;
}

long start_spinner(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, spinner, NULL) || pthread_detach(t);
}

/* ---- stack size attributes: -errno, or what the thread returned */
static void *deep(void *arg)
{
	volatile char frame[48 * 1024];

	memset((char *)frame, 1, sizeof(frame));
	return (void *)(long)frame[sizeof(frame) - 1];
}

long with_stack(long size)
{
	pthread_attr_t a;
	pthread_t t;
	size_t got;
	void *r;
	int e;

	pthread_attr_init(&a);
	e = pthread_attr_setstacksize(&a, (size_t)size);
	if (!e && (pthread_attr_getstacksize(&a, &got) || got != (size_t)size))
		return -1000;
	if (!e)
		e = pthread_create(&t, &a, deep, NULL);
	pthread_attr_destroy(&a);
	if (e)
		return -e;
	return pthread_join(t, &r) ? -2000 : (long)r;
}

/* pthread_setaffinity_np on this thread: to CPU \`cpu\`, or (-1) to no CPU. */
long pin_to(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0)
		CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- timed waits: ETIMEDOUT * 10 + (the clock reached the deadline); -errno for a refused clock.
 * by_clockwait: pthread_cond_clockwait on \`clock\` with a cond made for CLOCK_REALTIME. */
long timed_wait(long clock, long ms, long by_clockwait)
{
	pthread_condattr_t a;
	pthread_cond_t c;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec deadline, now;
	int r;

	pthread_condattr_init(&a);
	r = pthread_condattr_setclock(&a, by_clockwait ? CLOCK_REALTIME : (clockid_t)clock);
	if (r)
		return -r;
	pthread_cond_init(&c, &a);
	clock_gettime((clockid_t)clock, &deadline);
	deadline.tv_nsec += ms * 1000000;
	deadline.tv_sec += deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	pthread_mutex_lock(&m);
	r = by_clockwait ? pthread_cond_clockwait(&c, &m, (clockid_t)clock, &deadline)
			 : pthread_cond_timedwait(&c, &m, &deadline);
	pthread_mutex_unlock(&m);
	clock_gettime((clockid_t)clock, &now);
	pthread_cond_destroy(&c);
	return r * 10 + (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec));
}

static int flag;
static pthread_cond_t flag_set = PTHREAD_COND_INITIALIZER;

static void *raise_flag(void *arg)
{
	pthread_mutex_lock(&lock);
	flag = 1;
	pthread_cond_signal(&flag_set);
	pthread_mutex_unlock(&lock);
	return arg;
}

/* A timed wait a thread ends well before its deadline (a minute): 0. */
long signalled_before_deadline(void)
{
	struct timespec deadline;
	pthread_t t;
	int r = 0;

	flag = 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	if (pthread_create(&t, NULL, raise_flag, NULL))
		return -1;
	pthread_mutex_lock(&lock);
	while (!flag && !r)
		r = pthread_cond_timedwait(&flag_set, &lock, &deadline);
	pthread_mutex_unlock(&lock);
	return pthread_join(t, NULL) ? -2 : r;
}
`;

/* A driver with a module_init that starts its receive loop on a thread, as
 * userspace drivers do, and a module_exit that ends it. */
const pollerSource = `
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

static volatile long polls, crash_at;
static volatile int stop;
static pthread_t poller;

static void *poll_loop(void *arg)
{
	while (!stop) {
		if (++polls == crash_at)
			*(volatile int *)arg = 1; /* arg is NULL */
		usleep(100);
	}
	return arg;
}

NOOKS_EXPORT long polled(void)
{
	return polls;
}

NOOKS_EXPORT long crash_after(long n)
{
	crash_at = polls + n;
	return 0;
}

static int poller_init(void)
{
	int e = pthread_create(&poller, NULL, poll_loop, NULL);

	return e ? -e : -pthread_setname_np(poller, "rx-poll");
}

static void poller_exit(void)
{
	stop = 1;
	pthread_join(poller, NULL);
}

module_init(poller_init);
module_exit(poller_exit);
`;

/* Threads that spin, which is no wait (docs/drivers.md, "Threads", the time budget):
 * on sched_yield, on the kernel's spin_lock, on a pthread spinlock, the
 * locks held by the host's call and never let go. And a pthread_once whose
 * init naps: the others wait for it, which is a wait. */
const spinSource = `
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

static volatile int never; /* set by nobody */
static spinlock_t kernel_lock;
static pthread_spinlock_t posix_lock;

NOOKS_EXPORT long hold_locks(void)
{
	spin_lock_init(&kernel_lock);
	spin_lock(&kernel_lock);
	return pthread_spin_init(&posix_lock, PTHREAD_PROCESS_PRIVATE) || pthread_spin_lock(&posix_lock);
}

NOOKS_EXPORT long let_go_of_locks(void)
{
	spin_unlock(&kernel_lock);
	return pthread_spin_unlock(&posix_lock);
}

static void *on_sched_yield(void *arg)
{
	while (!never)
		sched_yield();
	return arg;
}

static void *on_spin_lock(void *arg)
{
	spin_lock(&kernel_lock);
	return arg;
}

static void *on_pthread_spin_lock(void *arg)
{
	pthread_spin_lock(&posix_lock);
	return arg;
}

/* 0: on sched_yield, 1: on spin_lock, 2: on pthread_spin_lock; named "spinner". */
NOOKS_EXPORT long start_spinner(long how)
{
	void *(*spin[])(void *) = { on_sched_yield, on_spin_lock, on_pthread_spin_lock };
	pthread_t t;

	return pthread_create(&t, NULL, spin[how], NULL) || pthread_setname_np(t, "spinner") || pthread_detach(t);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile long naps, inits, in_init, through_once;

static void slow_init(void)
{
	inits++;
	in_init = 1;
	for (long i = 0; i < naps; i++)
		usleep(1000);
}

static void *call_once(void *arg)
{
	pthread_once(&once, slow_init);
	__atomic_add_fetch(&through_once, 1, __ATOMIC_SEQ_CST);
	return arg;
}

static void *call_once_later(void *arg)
{
	while (!in_init)
		usleep(100);
	return call_once(arg);
}

/* Two detached threads: one runs init (n naps of 1 ms), the other calls pthread_once meanwhile. */
NOOKS_EXPORT long start_once(long n)
{
	pthread_t a, b;

	naps = n;
	return pthread_create(&a, NULL, call_once, NULL) || pthread_detach(a) || pthread_create(&b, NULL, call_once_later, NULL) ||
	       pthread_detach(b);
}

/* How many threads came through pthread_once * 10 + how many times init ran. */
NOOKS_EXPORT long once_done(void)
{
	return through_once * 10 + inits;
}

/* Two threads read a byte each of one FILE stream over an eventfd: the first
 * to take the stream's lock holds it while its read waits for the eventfd,
 * the other waits for the lock. A third writes the eventfd after n naps of 1 ms. */
static FILE *stream;
static int stream_fd;
static volatile long stream_naps, readers_started, bytes_read, bytes_sum;

static void *read_stream(void *arg)
{
	int c;

	__atomic_add_fetch(&readers_started, 1, __ATOMIC_SEQ_CST);
	c = fgetc(stream);
	__atomic_add_fetch(&bytes_sum, c, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&bytes_read, 1, __ATOMIC_SEQ_CST);
	return arg;
}

static void *write_stream_later(void *arg)
{
	while (readers_started < 2)
		usleep(100);
	for (long i = 0; i < stream_naps; i++)
		usleep(1000);
	eventfd_write(stream_fd, 0x0201);	/* the 8 bytes read: 1, 2, then zeros */
	return arg;
}

NOOKS_EXPORT long start_stream_readers(long n)
{
	void *(*body[])(void *) = { read_stream, read_stream, write_stream_later };
	pthread_t t;

	stream_naps = n;
	stream_fd = eventfd(0, 0);
	stream = fdopen(stream_fd, "r");
	if (!stream)
		return -1;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, body[i], NULL) || pthread_detach(t))
			return -1;
	return 0;
}

/* Bytes read * 10 + their sum. */
NOOKS_EXPORT long stream_readers_done(void)
{
	return bytes_read * 10 + bytes_sum;
}
`;

let path: string, pollerPath: string, spinPath: string;
beforeAll(() => {
  path = buildDriver(dir, 'threads', source, { posix: true });
  pollerPath = buildDriver(dir, 'poller', pollerSource, { posix: true });
  spinPath = buildDriver(dir, 'spins', spinSource, { posix: true });
}, 120_000);

const threadObjects = (d: Driver) => d.objects().filter((o) => o.type === 'thread');

describe.each<Isolation>(['mprotect', 'process', 'none'])("a POSIX driver's threads, isolation '%s'", (isolation) => {
  const contained = isolation !== 'none';
  const kernel = kernelPerBlock({ isolation, policy: { default: { maxFailures: 20 } } });

  it('two threads, a mutex and conds pass 3000 items in order; join gives what each returned', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 20_000 });
    const before = tasks();
    expect(d.call('produce_consume', 3000)).toBe((3000 * 3001) / 2);
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before); // both joined: their kernel threads are gone
    d.unload();
  });

  it('a module_init starts a receive loop on a thread; module_exit ends and joins it', async () => {
    const before = tasks();
    const d = await kernel().load(pollerPath);
    expect(threadObjects(d).map((o) => o.label)).toEqual(['rx-poll']);
    await until(() => d.call('polled') > 100, 'the loop polling');
    expect(tasks()).toBe(before + 1); // the loop's thread
    d.unload();
    await tasksBackTo(before);
  });

  it.runIf(contained)('a thread that faults is started again by module_init at the restart', async () => {
    const d = await kernel().load(pollerPath);
    const [first] = threadObjects(d);
    await until(() => d.call('polled') > 10, 'the loop polling');
    const recovered = new Promise<{ fault?: { kind: string } }>((resolve) => kernel().once('recovered', resolve));
    d.call('crash_after', 50);
    expect((await recovered).fault?.kind).toBe('segv');
    const [again] = threadObjects(d);
    expect(again).toMatchObject({ type: 'thread', label: 'rx-poll' });
    expect(again.address).not.toBe(first.address); // a new thread
    await until(() => d.call('polled') > 10, 'the loop polling again');
    d.unload();
  });

  it('pthread_exit gives join its value; pthread_self and pthread_equal tell threads apart; a joined thread is gone', async () => {
    const d = await kernel().load(path);
    expect(d.call('exit_value', 6)).toBe(7);
    if (contained) {
      expect(faultOf(() => d.call('exit_outside'))).toMatchObject({ kind: 'abort', message: `${d.name}: pthread_exit: not on a thread pthread_create started` });
    }
    d.unload();
  });

  it('errno and thread-specific values are per thread; key destructors run when a thread ends', async () => {
    const d = await kernel().load(path);
    expect(d.call('errno_per_thread')).toBe(1000 + 100 + 30 + 1);
    d.unload();
  });

  it('errno, thread-specific values, pthread_self and a recursive mutex need no kernel call: 1000 rounds of each make none', async () => {
    const d = await kernel().load(path);
    expect(d.call('state_key_create')).toBe(0);
    expect(d.call('state_rounds', 1)).toBe(0); // the thread's ids asked once
    const counts = () => new Map(d.taps().filter((t) => t.direction === 'to-kernel').map((t) => [t.name, t.calls]));
    const before = counts();
    expect(d.call('state_rounds', 1000)).toBe(0);
    const made = [...counts()].filter(([name, calls]) => calls !== (before.get(name) ?? 0)).map(([name, calls]) => [name, calls - (before.get(name) ?? 0)]);
    // under 'none' kernel calls are not counted (they are plain calls)
    expect(made).toEqual(contained ? [['mutex_lock', 1], ['mutex_unlock', 1]] : []); // the rounds' recursive mutex, taken first and let go of last
    d.unload();
  });

  it("a thread's errno and values outlive its crossings, not its end nor a restart", async () => {
    const d = await kernel().load(path);
    expect(d.call('state_key_create')).toBe(0);
    expect(d.call('set_state', 5)).toBe(0);
    expect(d.call('get_state')).toBe(5005); // the next crossing of the same thread
    expect(d.call('later_thread_state')).toBe(0);
    expect(d.call('get_state')).toBe(5005);
    if (contained) {
      d.recover();
      expect(d.state).toBe('running');
      expect(d.call('state_key_create')).toBe(0); // the key it had before the restart, again
      expect(d.call('get_state')).toBe(0);
    }
    d.unload();
  });

  it('timed waits end at their deadline on CLOCK_REALTIME and CLOCK_MONOTONIC, or when signalled', async () => {
    const d = await kernel().load(path);
    const ETIMEDOUT = 110, EINVAL = 22;
    expect(d.call('timed_wait', 0, 20, 0)).toBe(ETIMEDOUT * 10 + 1); // CLOCK_REALTIME
    expect(d.call('timed_wait', 1, 20, 0)).toBe(ETIMEDOUT * 10 + 1); // CLOCK_MONOTONIC
    expect(d.call('timed_wait', 2, 20, 0)).toBe(-EINVAL); // CLOCK_PROCESS_CPUTIME_ID
    // clockwait's own clock, not the cond's: a monotonic deadline is long past in CLOCK_REALTIME
    expect(d.call('timed_wait', 1, 20, 1)).toBe(ETIMEDOUT * 10 + 1);
    expect(d.call('signalled_before_deadline')).toBe(0);
    d.unload();
  });

  it('stack sizes are accepted up to a domain stack; past it pthread_create refuses (EINVAL, logged)', async () => {
    const d = await kernel().load(path);
    const EINVAL = 22;
    expect(d.call('with_stack', 100)).toBe(-EINVAL); // below PTHREAD_STACK_MIN
    expect(d.call('with_stack', 64 * 1024)).toBe(1);
    expect(d.call('with_stack', 1 << 20)).toBe(-EINVAL);
    expect(kernel().log().some((l) => l.source === d.name && l.text.includes('pthread_create: a stack of 1048576 bytes asked'))).toBe(true);
    d.unload();
  });

  it('pthread_setaffinity_np is accepted and not made (the host places the threads); a set with no CPU is EINVAL', async () => {
    const d = await kernel().load(path);
    expect(d.call('pin_to', 0)).toBe(0);
    expect(d.call('pin_to', 1023)).toBe(0);
    expect(d.call('pin_to', -1)).toBe(22);
    d.unload();
  });

  it("a thread's name is its object's label; threads that wait in the kernel or yield end when told and are joined", async () => {
    const d = await kernel().load(path);
    const before = tasks();
    const ERANGE = 34;
    expect(d.call('start_loopers')).toBe(ERANGE);
    await until(() => d.call('loops') > 1000, 'both threads running');
    expect(threadObjects(d).map((o) => o.label).sort()).toEqual(['cond-waiter', 'yielder']);
    expect(tasks()).toBe(before + 2);
    expect(d.call('stop_loopers')).toBe(410);
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before);
    d.unload();
  });

  // Before: ELIBC, the driver refused at load (pthread_getname_np was no function of the personality).
  it('pthread_getname_np: the name set, else the one inherited from the creating thread as on Linux; ERANGE under 16 bytes; ESRCH for no thread of the driver\'s', async () => {
    const d = await kernel().load(path);
    const inherited = readFileSync('/proc/thread-self/comm', 'utf8').trimEnd(); // the JavaScript thread, which calls pthread_create
    expect(d.call('getname_answers', d.cstring(inherited))).toBe(0);
    d.unload();
  });

  it('unload stops threads that never return, in driver code or waiting in the kernel', async () => {
    const d = await kernel().load(path);
    const before = tasks();
    expect(d.call('start_loopers')).toBe(34);
    await until(() => d.call('loops') > 1000, 'both threads running');
    expect(tasks()).toBe(before + 2);
    d.unload();
    await tasksBackTo(before);
    expect(kernel().domains()).toEqual([]);
    expect(kernel().log().some((l) => l.text.includes('did not stop') || l.text.includes('did not leave'))).toBe(false);
  });

  // Under mprotect one thread at a time runs driver code: a spinning thread holds the others (unload's too) out until its budget ends it.
  it.runIf(isolation !== 'mprotect')('unload stops a thread that spins in driver code without a kernel call', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 60_000 });
    const before = tasks();
    expect(d.call('start_spinner')).toBe(0);
    await until(() => d.call('spun') > 1_000_000, 'the spinner spinning');
    d.unload();
    await tasksBackTo(before);
    expect(kernel().log().some((l) => l.text.includes('did not stop'))).toBe(false);
  });

  it.runIf(contained)('a thread that faults fails the driver, which is restarted with none of its threads', async () => {
    const d = await kernel().load(path);
    const before = tasks();
    const recovered = new Promise<{ fault?: { kind: string } }>((resolve) => kernel().once('recovered', resolve));
    expect(d.call('start_loopers')).toBe(34);
    expect(d.call('start_crasher')).toBe(0);
    const e = await recovered; // the crasher faults once the yielder has run 1000 times
    expect(e.fault?.kind).toBe('segv');
    expect(threadObjects(d)).toEqual([]);
    await tasksBackTo(before);
    expect(d.state).toBe('running');
    expect(d.call('loops')).toBe(0); // its data as loaded
    expect(kernel().log().some((l) => l.source === d.name && l.text.includes('the driver failed on this thread (segv)'))).toBe(true);
    d.unload();
  });

  it("a thread's time budget runs from its last wait: one that naps outlives it, one that never waits times out", async () => {
    const d = await kernel().load(path, { timeBudgetMs: 300 }); // the host's calls are timed against it too: room for a loaded machine
    const events = kernel().events().length;
    expect(d.call('start_napper', 1000)).toBe(0); // 1000 naps of 1 ms: three budgets and more
    await until(() => d.call('napped') === 1, 'the napper done', 10_000);
    await until(() => threadObjects(d).length === 0, 'the detached napper let go of');
    expect(kernel().events().slice(events).filter((e) => e.event === 'fault')).toEqual([]);
    const recovered = new Promise<{ fault?: { kind: string } }>((resolve) => kernel().once('recovered', resolve));
    expect(d.call('start_spinner')).toBe(0);
    expect((await recovered).fault?.kind).toBe('timeout');
    expect(threadObjects(d)).toEqual([]);
    d.unload();
  });

  // Before a yield (or a spinlock's pause) counted as a wait, these spun for the driver's life.
  it.each(['sched_yield', 'spin_lock', 'pthread_spin_lock'])('a thread that spins on %s past its budget times out and the driver is restarted', async (on) => {
    const budgetMs = 300; // module_init's too (under 'process' not the host process's start: it is up before)
    const d = await kernel().load(spinPath, { timeBudgetMs: budgetMs });
    const spinnerFailures = () => kernel().log().filter((l) => l.source === d.name && l.text === 'spinner: the driver failed on this thread (timeout)').length;
    const failuresBefore = spinnerFailures();
    let fault: { kind: string } | undefined;
    kernel().once('recovered', (e: { fault?: { kind: string } }) => (fault = e.fault));
    expect(d.call('hold_locks')).toBe(0);
    expect(d.call('start_spinner', ['sched_yield', 'spin_lock', 'pthread_spin_lock'].indexOf(on))).toBe(0);
    await until(() => fault !== undefined, `the spinner's timeout`, budgetMs + 3_000);
    expect(fault?.kind).toBe('timeout');
    expect(spinnerFailures()).toBe(failuresBefore + 1); // the spinner, not the host's call, was timed out
    expect(threadObjects(d)).toEqual([]);
    expect(d.state).toBe('running');
    expect(d.call('hold_locks')).toBe(0); // its locks as loaded: free
    expect(d.call('let_go_of_locks')).toBe(0);
    d.unload();
  });

  it("pthread_once's other callers wait (no spin) while its init naps past their budget", async () => {
    const d = await kernel().load(spinPath, { timeBudgetMs: 300 });
    const events = kernel().events().length;
    expect(d.call('start_once', 1000)).toBe(0); // 1000 naps of 1 ms: three budgets and more
    await until(() => d.call('once_done') === 21, 'both threads through pthread_once, init run once', 10_000);
    expect(kernel().events().slice(events).filter((e) => e.event === 'fault')).toEqual([]);
    await until(() => threadObjects(d).length === 0, 'the detached threads let go of');
    d.unload();
  });

  // Before a FILE stream's lock waited in the kernel (native/driver-rt/posix/word_lock.c), its waiter yielded and timed out.
  it("a FILE stream's other users wait (no spin) while its holder's read waits past their budget", async () => {
    const d = await kernel().load(spinPath, { timeBudgetMs: 300 });
    const events = kernel().events().length;
    expect(d.call('start_stream_readers', 1000)).toBe(0); // the write after 1000 naps of 1 ms: three budgets and more
    await until(() => d.call('stream_readers_done') === 2 * 10 + 1 + 2, 'both readers through, one byte each', 10_000);
    expect(kernel().events().slice(events).filter((e) => e.event === 'fault')).toEqual([]);
    await until(() => threadObjects(d).length === 0, 'the detached threads let go of');
    d.unload();
  });
});

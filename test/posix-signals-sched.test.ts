// The POSIX personality's signal sets and masks, scheduling answers and the
// syslog family (docs/drivers.md, "Unmodified C: the POSIX personality"):
// what DPDK-style thread code calls at start. A driver gets no signals: the
// sets are pure, a mask is kept per thread (in the thread's area, so under
// 'process' too) only to be answered back; real-time scheduling is EPERM as
// for an unprivileged process (a thread's or the process's), mlockall has
// nothing to lock; syslog's messages are kernel log lines at
// their levels. Built at test time, library-style; without these functions
// the build is refused ELIBC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

/* Each check one bit, first check the highest. */
#define CHECK(bits, cond) ((bits) = (bits) << 1 | !!(cond))

long sigsets(void)
{
	sigset_t s;
	long bits = 0;

	sigemptyset(&s);
	CHECK(bits, sigismember(&s, SIGINT) == 0);
	CHECK(bits, sigaddset(&s, SIGINT) == 0 && sigismember(&s, SIGINT) == 1 && sigismember(&s, SIGTERM) == 0);
	CHECK(bits, sigaddset(&s, 64) == 0 && sigismember(&s, 64) == 1);
	CHECK(bits, sigdelset(&s, SIGINT) == 0 && sigismember(&s, SIGINT) == 0);
	sigfillset(&s);
	CHECK(bits, sigismember(&s, SIGTERM) == 1 && sigismember(&s, 1) == 1 && sigismember(&s, 64) == 1);
	CHECK(bits, sigismember(&s, 32) == 0 && sigismember(&s, 33) == 0); /* glibc's own, as glibc leaves them out */
	errno = 0;
	CHECK(bits, sigaddset(&s, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigdelset(&s, 65) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigismember(&s, -1) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigaddset(&s, 32) == -1 && errno == EINVAL);
	return bits;
}

/* The calling thread's mask, signals 1 to 64 as bits 0 to 63. */
static unsigned long mask_now(void)
{
	sigset_t old;

	sigfillset(&old);
	pthread_sigmask(SIG_BLOCK, NULL, &old);
	return old.__val[0];
}

static unsigned long bit(int sig)
{
	return 1UL << (sig - 1);
}

/* What the new thread's mask was at its start, if it then sets its own (else 0). */
static void *new_thread_mask(void *arg)
{
	unsigned long first = mask_now();
	sigset_t s;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &s, NULL);
	return (void *)(mask_now() == bit(SIGUSR2) ? first : 0);
}

long masks(void)
{
	sigset_t s, old;
	pthread_t t;
	void *seen;
	long bits = 0;

	sigemptyset(&s);
	pthread_sigmask(SIG_SETMASK, &s, NULL);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	CHECK(bits, pthread_sigmask(SIG_BLOCK, &s, NULL) == 0 && mask_now() == (bit(SIGINT) | bit(SIGTERM)));
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	CHECK(bits, pthread_sigmask(SIG_UNBLOCK, &s, &old) == 0 && old.__val[0] == (bit(SIGINT) | bit(SIGTERM)) &&
		    mask_now() == bit(SIGTERM));
	sigfillset(&s);
	CHECK(bits, sigprocmask(SIG_SETMASK, &s, &old) == 0 && old.__val[0] == bit(SIGTERM));
	/* as Linux: SIGKILL and SIGSTOP are never blocked */
	CHECK(bits, (mask_now() & (bit(SIGKILL) | bit(SIGSTOP))) == 0 && (mask_now() & bit(SIGUSR1)) != 0);
	CHECK(bits, pthread_sigmask(42, &s, NULL) == EINVAL);
	errno = 0;
	CHECK(bits, sigprocmask(42, &s, NULL) == -1 && errno == EINVAL);
	CHECK(bits, pthread_sigmask(42, NULL, &old) == 0); /* no set: how is not looked at, as Linux */
	/* a mask is the thread's: a new one starts with its creator's, as POSIX has it, and sets its own */
	if (pthread_create(&t, NULL, new_thread_mask, NULL) || pthread_join(t, &seen))
		return -1;
	CHECK(bits, seen == (void *)mask_now());
	CHECK(bits, (mask_now() & bit(SIGUSR1)) != 0 && (mask_now() & bit(SIGUSR2)) != 0);
	return bits;
}

extern sighandler_t __sysv_signal(int sig, sighandler_t handler);	/* glibc's, which <signal.h> declares under no macro a driver sets */

static void on_signal(int sig)
{
	(void)sig;
}

/* A UIO main loop's start: SIG_IGN and SIG_DFL kept and answered back as Linux, a handler refused (EINVAL, logged). */
long dispositions(void)
{
	struct sigaction act, old;
	long bits = 0;

	CHECK(bits, signal(SIGPIPE, SIG_IGN) == SIG_DFL);
	CHECK(bits, signal(SIGPIPE, SIG_DFL) == SIG_IGN && signal(SIGPIPE, SIG_DFL) == SIG_DFL);
	errno = 0;
	CHECK(bits, signal(SIGINT, on_signal) == SIG_ERR && errno == EINVAL);
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	errno = 0;
	CHECK(bits, sigaction(SIGRTMIN + 2, &act, NULL) == -1 && errno == EINVAL && SIGRTMIN == 34 && SIGRTMAX == 64);
	/* the refused handler changed nothing; signal's flags and mask as glibc sets them */
	CHECK(bits, signal(SIGINT, SIG_IGN) == SIG_DFL);
	memset(&old, 0xff, sizeof(old));
	CHECK(bits, sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN && (old.sa_flags & SA_RESTART) &&
		    old.sa_mask.__val[0] == 1UL << (SIGINT - 1));
	act.sa_handler = SIG_IGN;
	act.sa_flags = SA_SIGINFO;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGTERM);
	sigaddset(&act.sa_mask, SIGKILL);
	CHECK(bits, sigaction(SIGHUP, &act, &old) == 0 && old.sa_handler == SIG_DFL);
	CHECK(bits, sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_IGN && (old.sa_flags & SA_SIGINFO) &&
		    sigismember(&old.sa_mask, SIGTERM) == 1 && sigismember(&old.sa_mask, SIGKILL) == 0);
	/* Linux's and glibc's EINVALs: SIGKILL and SIGSTOP keep theirs (asking is fine), bad numbers, glibc's own 32 */
	errno = 0;
	CHECK(bits, signal(SIGKILL, SIG_IGN) == SIG_ERR && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigaction(SIGSTOP, &act, NULL) == -1 && errno == EINVAL);
	CHECK(bits, sigaction(SIGKILL, NULL, &old) == 0 && old.sa_handler == SIG_DFL);
	errno = 0;
	CHECK(bits, signal(0, SIG_IGN) == SIG_ERR && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigaction(65, NULL, &old) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(bits, sigaction(32, NULL, &old) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(bits, signal(SIGUSR1, SIG_ERR) == SIG_ERR && errno == EINVAL);
	/* __sysv_signal, glibc's signal under System V's semantics: SA_RESETHAND and SA_NODEFER, no SA_RESTART, no mask */
	CHECK(bits, __sysv_signal(SIGUSR2, SIG_IGN) == SIG_DFL);
	CHECK(bits, sigaction(SIGUSR2, NULL, &old) == 0 && old.sa_handler == SIG_IGN && !(old.sa_flags & SA_RESTART) &&
		    (old.sa_flags & (SA_RESETHAND | SA_NODEFER)) == (SA_RESETHAND | SA_NODEFER) && old.sa_mask.__val[0] == 0);
	return bits;
}

/* Whether SIGINT is still ignored (a restart forgets it). */
long sigint_ignored(void)
{
	struct sigaction old;

	return sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
}

/* sched_get_priority_max (which 1) or _min (0) of a policy: the answer, or -errno. */
long priority(long which, long policy)
{
	int r = which ? sched_get_priority_max((int)policy) : sched_get_priority_min((int)policy);

	return r < 0 ? -errno : r;
}

long set_sched(long policy, long prio)
{
	struct sched_param p = { .sched_priority = (int)prio };

	return pthread_setschedparam(pthread_self(), (int)policy, &p);
}

/* policy * 1000 + priority after pthread_getschedparam (which answered 0), or -1. */
long get_sched(void)
{
	struct sched_param p = { .sched_priority = 77 };
	int policy = 55;

	if (pthread_getschedparam(pthread_self(), &policy, &p))
		return -1;
	return policy * 1000L + p.sched_priority;
}

static void *given_back(void *arg)
{
	return arg;
}

/* pthread_attr_setschedpolicy & co.: kept and checked as glibc's; pthread_create under PTHREAD_EXPLICIT_SCHED
 * runs SCHED_OTHER and answers real time EPERM, as pthread_setschedparam does. Each check one bit. */
long attr_sched(void)
{
	pthread_attr_t a;
	struct sched_param p = { .sched_priority = 7 };
	pthread_t t;
	void *seen = NULL;
	int v = -1;
	long bits = 0;

	pthread_attr_init(&a);
	CHECK(bits, pthread_attr_getschedpolicy(&a, &v) == 0 && v == SCHED_OTHER);
	CHECK(bits, pthread_attr_getinheritsched(&a, &v) == 0 && v == PTHREAD_INHERIT_SCHED);
	CHECK(bits, pthread_attr_getschedparam(&a, &p) == 0 && p.sched_priority == 0);
	p.sched_priority = 10;
	CHECK(bits, pthread_attr_setschedparam(&a, &p) == EINVAL); /* SCHED_OTHER's range is 0 alone */
	CHECK(bits, pthread_attr_setschedpolicy(&a, SCHED_BATCH) == EINVAL && pthread_attr_setschedpolicy(&a, 42) == EINVAL);
	CHECK(bits, pthread_attr_setinheritsched(&a, 5) == EINVAL);
	CHECK(bits, pthread_attr_setschedpolicy(&a, SCHED_FIFO) == 0 && pthread_attr_setschedparam(&a, &p) == 0);
	p.sched_priority = 0;
	CHECK(bits, pthread_attr_getschedparam(&a, &p) == 0 && p.sched_priority == 10 &&
		    pthread_attr_getschedpolicy(&a, &v) == 0 && v == SCHED_FIFO);
	/* inherited (the default): the attribute's policy is not looked at */
	CHECK(bits, pthread_create(&t, &a, given_back, (void *)5) == 0 && pthread_join(t, &seen) == 0 && seen == (void *)5);
	CHECK(bits, pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0 && pthread_create(&t, &a, given_back, NULL) == EPERM);
	p.sched_priority = 0;
	CHECK(bits, pthread_attr_setschedpolicy(&a, SCHED_OTHER) == 0 && pthread_attr_setschedparam(&a, &p) == 0 &&
		    pthread_create(&t, &a, given_back, (void *)6) == 0 && pthread_join(t, &seen) == 0 && seen == (void *)6);
	pthread_attr_destroy(&a);
	return bits;
}

/* sched_setscheduler(pid, policy, &{prio}): 0, or -errno. */
long process_sched(long pid, long policy, long prio)
{
	struct sched_param p = { .sched_priority = (int)prio };

	return sched_setscheduler((pid_t)pid, (int)policy, &p) ? -errno : 0;
}

/* A real-time lab driver's start (it goes on after a perror when refused); each check one bit, as on Linux unprivileged. */
long rt_start(void)
{
	long bits = 0;
	struct sched_param p = { .sched_priority = 80 };

	CHECK(bits, sched_setscheduler(0, SCHED_FIFO, &p) == -1 && errno == EPERM);
	CHECK(bits, sched_getscheduler(0) == SCHED_OTHER && sched_getscheduler(getpid()) == SCHED_OTHER);
	p.sched_priority = 5;
	CHECK(bits, sched_getparam(0, &p) == 0 && p.sched_priority == 0);
	CHECK(bits, sched_setparam(0, &p) == 0);
	p.sched_priority = 1;
	CHECK(bits, sched_setparam(0, &p) == -1 && errno == EINVAL);
	CHECK(bits, sched_getscheduler(-1) == -1 && errno == EINVAL);
	CHECK(bits, sched_setscheduler(0, SCHED_OTHER, NULL) == -1 && errno == EINVAL);
	CHECK(bits, sched_getparam(0, NULL) == -1 && errno == EINVAL);
	CHECK(bits, mlockall(MCL_CURRENT | MCL_FUTURE) == 0 && munlockall() == 0);
	CHECK(bits, mlockall(MCL_CURRENT | MCL_ONFAULT) == 0 && munlockall() == 0);
	CHECK(bits, mlockall(MCL_ONFAULT) == -1 && errno == EINVAL);
	CHECK(bits, mlockall(0) == -1 && errno == EINVAL);
	CHECK(bits, mlockall(8) == -1 && errno == EINVAL);
	return bits;
}

long other_pid(void)
{
	return getpid() + 1;
}

long log_some(void)
{
	long bits = 0;

	openlog("evl", LOG_PID, LOG_DAEMON);
	syslog(LOG_ERR, "port %d down", 3);
	errno = ENOENT;
	syslog(LOG_WARNING | LOG_DAEMON, "open: %m (%%m kept)");
	CHECK(bits, errno == ENOENT);
	CHECK(bits, setlogmask(LOG_UPTO(LOG_NOTICE)) == 0xff);
	syslog(LOG_DEBUG, "not logged: above the mask");
	syslog(LOG_INFO, "not logged either");
	syslog(LOG_NOTICE, "link up\\n");
	closelog();
	openlog("plain", 0, LOG_USER);
	syslog(LOG_CRIT, "no pid");
	closelog();
	syslog(LOG_ALERT, "no ident");
	CHECK(bits, setlogmask(0) == LOG_UPTO(LOG_NOTICE));
	setlogmask(0xff);
	return bits;
}
`;

// built twice: plain, and as DPDK builds (-O2 -D_FORTIFY_SOURCE=2: syslog is then __syslog_chk)
let path: string, fortifiedPath: string;
beforeAll(() => {
  path = buildDriver(dir, 'signals', source, { posix: true });
  fortifiedPath = buildDriver(dir, 'signalsfortified', source, { posix: true, extraCflags: ['-O2', '-D_FORTIFY_SOURCE=2'] });
});

describe.each<Isolation>(['mprotect', 'process'])("signals, scheduling and syslog in the POSIX personality, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  let d: Driver, fortified: Driver;
  beforeAll(async () => {
    d = await kernel().load(path);
    fortified = await kernel().load(fortifiedPath);
  });

  it('the sigset family: as glibc, EINVAL for a bad signal number', () => {
    expect(Number(d.call('sigsets')).toString(2)).toBe('1'.repeat(10));
  });

  it('pthread_sigmask and sigprocmask: kept per thread and answered back; EINVAL for a bad how', () => {
    expect(Number(d.call('masks')).toString(2)).toBe('1'.repeat(9));
  });

  it('signal and sigaction: SIG_IGN and SIG_DFL kept and answered as Linux; a handler EINVAL with one log line saying why; a restart forgets', () => {
    const from = kernel().log().length;
    expect(Number(d.call('dispositions')).toString(2)).toBe('1'.repeat(17));
    const lines = kernel().log().slice(from).filter((l) => l.source === d.name).map(({ level, text }) => ({ level, text }));
    const why = 'is refused (EINVAL): a driver is sent no signals, so it would never run (SIG_IGN and SIG_DFL are accepted)';
    expect(lines).toEqual([{ level: 3, text: `a handler for SIGINT ${why}` }, { level: 3, text: `a handler for SIGRTMIN+2 ${why}` }]);
    expect(d.call('sigint_ignored')).toBe(1);
    d.recover();
    expect(d.state).toBe('running');
    expect(d.call('sigint_ignored')).toBe(0);
  });

  it("sched_get_priority_max/min: Linux's ranges, EINVAL for no policy", () => {
    const [OTHER, FIFO, RR, BATCH, IDLE] = [0, 1, 2, 3, 5];
    expect([OTHER, FIFO, RR, BATCH, IDLE, 42].map((p) => Number(d.call('priority', 1, p)))).toEqual([0, 99, 99, 0, 0, -22]);
    expect([OTHER, FIFO, RR, BATCH, IDLE, 42].map((p) => Number(d.call('priority', 0, p)))).toEqual([0, 1, 1, 0, 0, -22]);
  });

  it('pthread_setschedparam: SCHED_OTHER at 0 accepted, real time EPERM, a priority out of range EINVAL; get answers SCHED_OTHER, 0', () => {
    const [EPERM, EINVAL] = [1, 22];
    expect(d.call('set_sched', 0, 0)).toBe(0);
    expect(d.call('set_sched', 1, 10)).toBe(EPERM);
    expect(d.call('set_sched', 2, 99)).toBe(EPERM);
    expect([[0, 5], [1, 0], [1, 100], [42, 0]].map(([p, q]) => d.call('set_sched', p, q))).toEqual([EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(d.call('get_sched')).toBe(0);
  });

  it('pthread_attr_setschedpolicy & co.: kept and checked as glibc; an explicit real-time policy is EPERM at pthread_create', () => {
    expect(Number(d.call('attr_sched')).toString(2)).toBe('1'.repeat(11));
  });

  it('sched_setscheduler & co., mlockall: a real-time driver\'s start answered as on Linux unprivileged, memory already resident', () => {
    const [OTHER, FIFO, RR, BATCH, IDLE, DEADLINE, RESET_ON_FORK] = [0, 1, 2, 3, 5, 6, 0x40000000];
    const [EPERM, ESRCH, EINVAL] = [-1, -3, -22];
    expect(Number(d.call('rt_start')).toString(2)).toBe('1'.repeat(13));
    const cases = [[0, OTHER, 0], [0, BATCH, 0], [0, IDLE, 0], [0, OTHER | RESET_ON_FORK, 0], [0, RR, 99], [0, RR, 0], [0, OTHER, 1],
      [0, 42, 0], [0, DEADLINE, 0], [0, FIFO, 100], [-1, OTHER, 0], [Number(d.call('other_pid')), OTHER, 0]];
    expect(cases.map(([pid, policy, prio]) => Number(d.call('process_sched', pid, policy, prio))))
      .toEqual([0, 0, 0, 0, EPERM, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, ESRCH]);
  });

  it.each(['plain', 'fortified'])("syslog (%s): one kernel log line per message at its level, openlog's ident first, percent-m as strerror(errno), setlogmask filters", (build) => {
    const driver = build === 'plain' ? d : fortified;
    const from = kernel().log().length;
    expect(Number(driver.call('log_some')).toString(2)).toBe('111');
    const lines = kernel().log().slice(from).filter((l) => l.source === driver.name).map(({ level, text }) => ({ level, text }));
    expect(lines).toEqual([
      { level: 3, text: `evl[${process.pid}]: port 3 down` },
      { level: 4, text: `evl[${process.pid}]: open: No such file or directory (%m kept)` },
      { level: 5, text: `evl[${process.pid}]: link up` },
      { level: 2, text: 'plain: no pid' },
      { level: 1, text: 'no ident' },
    ]);
  });
});

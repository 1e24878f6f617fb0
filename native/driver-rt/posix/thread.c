/* Threads: pthread_create & co. Each thread is a kernel thread the kernel
 * starts on the driver's behalf (native/posix/threads.cc, docs/drivers.md),
 * which runs thread_main here, inside the domain, on a domain stack of its
 * own; the kernel holds it, joins it, and stops it at recovery and unload.
 * Its attributes and its way out (pthread_exit) are the personality's. */
#define _GNU_SOURCE
#include <pthread.h>

#include "posix.h"

#define STACK_MIN 16384			/* PTHREAD_STACK_MIN (glibc's is a sysconf call under _GNU_SOURCE) */
#define STACK_DEFAULT NOOKS_STACK_BYTES	/* a domain stack (<nooks/thread_area.h>): the most a thread may ask */

struct attr {
	int detached;
	size_t stack_size;	/* 0: the default */
	int inherit_sched;	/* 0: PTHREAD_INHERIT_SCHED, the policy and priority below ignored */
	int policy;		/* 0: SCHED_OTHER */
	int priority;
};
_Static_assert(sizeof(struct attr) <= sizeof(pthread_attr_t), "attributes fit a pthread_attr_t");

static struct attr *attr_of(pthread_attr_t *a)
{
	return (struct attr *)a;
}

static const struct attr *const_attr_of(const pthread_attr_t *a)
{
	return (const struct attr *)a;
}

int pthread_attr_init(pthread_attr_t *a)
{
	memset(a, 0, sizeof(*a));
	return 0;
}

int pthread_attr_destroy(pthread_attr_t *a)
{
	(void)a;
	return 0;
}

int pthread_attr_setdetachstate(pthread_attr_t *a, int state)
{
	if (state != PTHREAD_CREATE_JOINABLE && state != PTHREAD_CREATE_DETACHED)
		return EINVAL;
	attr_of(a)->detached = state == PTHREAD_CREATE_DETACHED;
	return 0;
}

int pthread_attr_getdetachstate(const pthread_attr_t *a, int *state)
{
	*state = const_attr_of(a)->detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE;
	return 0;
}

/* Any size from the minimum up: pthread_create refuses one past a domain stack (EINVAL, logged). */
int pthread_attr_setstacksize(pthread_attr_t *a, size_t size)
{
	if (size < STACK_MIN)
		return EINVAL;
	attr_of(a)->stack_size = size;
	return 0;
}

int pthread_attr_getstacksize(const pthread_attr_t *a, size_t *size)
{
	*size = const_attr_of(a)->stack_size ? const_attr_of(a)->stack_size : STACK_DEFAULT;
	return 0;
}

/* The scheduling attributes, checked and kept as glibc's: SCHED_OTHER,
 * SCHED_FIFO or SCHED_RR, a priority in the policy's range. pthread_create
 * applies them only under PTHREAD_EXPLICIT_SCHED, where a real-time policy
 * is EPERM, as for an unprivileged process (sched.c). */
int pthread_attr_setinheritsched(pthread_attr_t *a, int inherit)
{
	if (inherit != PTHREAD_INHERIT_SCHED && inherit != PTHREAD_EXPLICIT_SCHED)
		return EINVAL;
	attr_of(a)->inherit_sched = inherit;
	return 0;
}

int pthread_attr_getinheritsched(const pthread_attr_t *a, int *inherit)
{
	*inherit = const_attr_of(a)->inherit_sched;
	return 0;
}

int pthread_attr_setschedpolicy(pthread_attr_t *a, int policy)
{
	if (policy != SCHED_OTHER && policy != SCHED_FIFO && policy != SCHED_RR)
		return EINVAL;
	attr_of(a)->policy = policy;
	return 0;
}

int pthread_attr_getschedpolicy(const pthread_attr_t *a, int *policy)
{
	*policy = const_attr_of(a)->policy;
	return 0;
}

/* The priority against the attribute's policy's range, as glibc checks it. */
int pthread_attr_setschedparam(pthread_attr_t *a, const struct sched_param *param)
{
	int policy = attr_of(a)->policy;

	if (param->sched_priority < sched_get_priority_min(policy) || param->sched_priority > sched_get_priority_max(policy))
		return EINVAL;
	attr_of(a)->priority = param->sched_priority;
	return 0;
}

int pthread_attr_getschedparam(const pthread_attr_t *a, struct sched_param *param)
{
	param->sched_priority = const_attr_of(a)->priority;
	return 0;
}

/* A program's threads that run (main's and those pthread_create started,
 * counted from before they start): the last to end, once main's thread has
 * called pthread_exit, ends the program with status 0, as glibc's. */
static unsigned int program_threads;

void posix_program_thread_begins(void)
{
	__atomic_add_fetch(&program_threads, 1, __ATOMIC_RELAXED);
}

static void program_thread_ends(void)
{
	if (__atomic_sub_fetch(&program_threads, 1, __ATOMIC_ACQ_REL) == 0 && posix_program())
		exit(0);
}

void *posix_thread_body(void *(*start)(void *), void *arg)
{
	void *jump[5];	/* __builtin_setjmp's buffer */
	struct posix_thread *self = posix_thread_self();
	void *result;

	self->exit_to = jump;
	if (__builtin_setjmp(jump) == 0)
		result = start(arg);
	else
		result = self->exit_value;
	posix_keys_end(self);
	program_thread_ends();
	return result;
}

/* Where the kernel's thread starts, inside the domain, with its creator's signal mask. */
static void *thread_main(void *start, void *arg, unsigned long mask)
{
	posix_thread_self()->sigmask = mask;
	return posix_thread_body((void *(*)(void *))start, arg);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *a, void *(*start)(void *), void *arg)
{
	static const struct attr defaults;
	const struct attr *at = a ? const_attr_of(a) : &defaults;
	long r;
	int e;

	/* the attribute's policy, set as pthread_setschedparam sets one (a real-time one EPERM) */
	if (at->inherit_sched == PTHREAD_EXPLICIT_SCHED && (e = posix_sched_error(at->policy, at->priority)))
		return e;
	posix_program_thread_begins();
	r = nooks_posix_thread_create(thread_main, start, arg, at->stack_size, at->detached, posix_thread_self()->sigmask);
	if (r < 0) {
		__atomic_sub_fetch(&program_threads, 1, __ATOMIC_RELAXED);	/* never started: it ends nothing */
		return (int)-r;
	}
	*thread = (pthread_t)r;
	return 0;
}

int pthread_join(pthread_t thread, void **result)
{
	pthread_t self = posix_thread_self()->handle;

	/* joining itself: also the call's thread, which the kernel does not know as a driver thread. Its handle is
	 * known once it asked for it (pthread_self), as it must have to name itself: no kernel call to learn it here */
	if (self && thread == self)
		return EDEADLK;
	return -nooks_posix_thread_join(thread, result);
}

int pthread_detach(pthread_t thread)
{
	return -nooks_posix_thread_detach(thread);
}

pthread_t pthread_self(void)
{
	struct posix_thread *self = posix_thread_self();

	if (!self->handle)
		self->handle = nooks_posix_thread_self();
	return self->handle;
}

int pthread_equal(pthread_t a, pthread_t b)
{
	return a == b;
}

/* Back to posix_thread_body on the thread's own stack, inside the domain: the kernel is not involved. */
void pthread_exit(void *value)
{
	struct posix_thread *self = posix_thread_self();

	if (!self->exit_to)
		posix_abort("pthread_exit: not on a thread pthread_create started");
	self->exit_value = value;
	__builtin_longjmp(self->exit_to, 1);
}

/* The name the kernel gives the thread's object and log lines (15 bytes at most, as Linux's). */
int pthread_setname_np(pthread_t thread, const char *name)
{
	if (strlen(name) > 15)
		return ERANGE;
	return -nooks_posix_thread_setname(thread, name);
}

/* The thread's name (nooks_posix_thread_getname says which). As glibc: ERANGE for a buffer under 16 bytes, Linux's
 * TASK_COMM_LEN, before anything else is looked at. */
int pthread_getname_np(pthread_t thread, char *buf, size_t len)
{
	if (len < 16)
		return ERANGE;
	return -nooks_posix_thread_getname(thread, buf);
}

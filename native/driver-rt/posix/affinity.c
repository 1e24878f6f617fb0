/* CPU affinity, as the personality counts CPUs (sysconf(_SC_NPROCESSORS_ONLN)
 * is 1): a driver's threads run on CPU 0 alone, as far as it can ask. Where
 * the kernel's threads really run is the host's to decide: it shares its CPUs
 * among drivers, and a driver's pinning is no part of its isolation (under
 * `process` the thread is the host process's). So a driver that pins its
 * threads, as DPDK's do (failing if refused), is answered 0 and the pinning
 * is not made; a set with no CPU is EINVAL, as Linux answers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "posix.h"

/* Whether set is NULL, asked so that the compiler cannot answer: glibc
 * declares the pthread calls' set nonnull, and a NULL check the compiler may
 * assume false would be dropped; Linux answers such a set EFAULT. */
static int is_null(const cpu_set_t *set)
{
	__asm__("" : "+r"(set));
	return set == NULL;
}

/* 0 for a set that names a CPU, else EINVAL; EFAULT for none (NULL), as Linux reads the set first. */
static int pinnable(size_t size, const cpu_set_t *set)
{
	if (is_null(set))
		return EFAULT;
	for (size_t i = 0; i < size; i++)
		if (((const unsigned char *)set)[i])
			return 0;
	return EINVAL;
}

/* CPU 0 alone; EINVAL for a set smaller than the kernel's mask (a long), or not a whole number of longs, then EFAULT for none (NULL), as Linux. */
static int cpu0(size_t size, cpu_set_t *set)
{
	if (size < sizeof(unsigned long) || size % sizeof(unsigned long))
		return EINVAL;
	if (is_null(set))
		return EFAULT;
	memset(set, 0, size);
	CPU_SET_S(0, size, set);
	return 0;
}

int posix_pid_error(pid_t pid)
{
	return pid == 0 || pid == getpid() ? 0 : ESRCH;
}

/* The error number itself, not -1 and errno, as POSIX has the pthread calls. */
int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t *set)
{
	(void)thread;
	return pinnable(size, set);
}

int pthread_getaffinity_np(pthread_t thread, size_t size, cpu_set_t *set)
{
	(void)thread;
	return cpu0(size, set);
}

/* A thread's affinity set before it starts, as DPDK's control threads are
 * made: a set naming a CPU is accepted and not kept (nothing is pinned), one
 * with no CPU EINVAL (where glibc's pthread_create would fail); size 0 asks
 * for none, as glibc. */
int pthread_attr_setaffinity_np(pthread_attr_t *attr, size_t size, const cpu_set_t *set)
{
	(void)attr;
	return size ? pinnable(size, set) : 0;
}

int pthread_attr_getaffinity_np(const pthread_attr_t *attr, size_t size, cpu_set_t *set)
{
	(void)attr;
	return cpu0(size, set);
}

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	int e = posix_pid_error(pid);

	return (int)posix_result(-(e ? e : pinnable(size, set)));
}

int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	int e = posix_pid_error(pid);

	return (int)posix_result(-(e ? e : cpu0(size, set)));
}

int sched_getcpu(void)
{
	return 0;
}

/* What <sched.h>'s macros call: CPU_COUNT, CPU_ALLOC, CPU_FREE. */
int __sched_cpucount(size_t size, const cpu_set_t *set)
{
	int n = 0;

	for (size_t i = 0; i < size; i++)
		n += __builtin_popcount(((const unsigned char *)set)[i]);
	return n;
}

cpu_set_t *__sched_cpualloc(size_t count)
{
	return malloc(CPU_ALLOC_SIZE(count));
}

void __sched_cpufree(cpu_set_t *set)
{
	free(set);
}

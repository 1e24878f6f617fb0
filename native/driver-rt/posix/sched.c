/* Scheduling policies and priorities, as an unprivileged Linux process finds
 * them: the priority ranges are Linux's, a thread runs SCHED_OTHER at 0, and
 * asking for a real-time policy is EPERM (DPDK's drivers go on without it).
 * A driver's threads are the host's to schedule, as their CPUs are
 * (affinity.c): a policy that needs no privilege is answered 0 and not
 * kept, for a thread (pthread_*) or the process (sched_*). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "posix.h"

static int real_time(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

static int known(int policy)
{
	return real_time(policy) || policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE ||
	       policy == SCHED_DEADLINE;
}

int sched_get_priority_max(int policy)
{
	if (!known(policy))
		return (int)posix_result(-EINVAL);
	return real_time(policy) ? 99 : 0;
}

int sched_get_priority_min(int policy)
{
	if (!known(policy))
		return (int)posix_result(-EINVAL);
	return real_time(policy) ? 1 : 0;
}

/* Linux's checks in its order: a priority outside the policy's range is
 * EINVAL, then a real-time policy EPERM (no RLIMIT_RTPRIO); SCHED_DEADLINE
 * needs sched_setattr's parameters, EINVAL here as there. */
int posix_sched_error(int policy, int priority)
{
	if (!known(policy) || policy == SCHED_DEADLINE || priority < 0 || priority > 99 ||
	    real_time(policy) != (priority != 0))
		return EINVAL;
	return real_time(policy) ? EPERM : 0;
}

int pthread_setschedparam(pthread_t thread, int policy, const struct sched_param *param)
{
	(void)thread;
	return posix_sched_error(policy, param->sched_priority);
}

int pthread_getschedparam(pthread_t thread, int *policy, struct sched_param *param)
{
	(void)thread;
	*policy = SCHED_OTHER;
	param->sched_priority = 0;
	return 0;
}

/* The process's calls (sched(7)), as the thread calls above: Linux's checks in
 * its order (sched_setscheduler(2): a NULL param or a negative pid EINVAL,
 * then the pid, then the policy, which may carry SCHED_RESET_ON_FORK). */
int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
	int e = !param || pid < 0 ? EINVAL : posix_pid_error(pid);

	return (int)posix_result(-(e ? e : posix_sched_error(policy & ~SCHED_RESET_ON_FORK, param->sched_priority)));
}

int sched_getscheduler(pid_t pid)
{
	int e = pid < 0 ? EINVAL : posix_pid_error(pid);

	return e ? (int)posix_result(-e) : SCHED_OTHER;
}

/* The priority within the process's policy, SCHED_OTHER's: 0. */
int sched_setparam(pid_t pid, const struct sched_param *param)
{
	return sched_setscheduler(pid, SCHED_OTHER, param);
}

int sched_getparam(pid_t pid, struct sched_param *param)
{
	int e = !param || pid < 0 ? EINVAL : posix_pid_error(pid);

	if (e)
		return (int)posix_result(-e);
	param->sched_priority = 0;
	return 0;
}

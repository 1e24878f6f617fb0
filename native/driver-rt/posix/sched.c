/* Scheduling policies and priorities, as an unprivileged Linux process finds
 * them: the priority ranges are Linux's, a thread runs SCHED_OTHER at 0, and
 * asking for a real-time policy is EPERM (DPDK's drivers go on without it).
 * A driver's threads are the host's to schedule, as their CPUs are
 * (affinity.c): a policy that needs no privilege is answered 0 and not
 * kept. */
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
int pthread_setschedparam(pthread_t thread, int policy, const struct sched_param *param)
{
	int priority = param->sched_priority;

	(void)thread;
	if (!known(policy) || policy == SCHED_DEADLINE || priority < 0 || priority > 99 ||
	    real_time(policy) != (priority != 0))
		return EINVAL;
	return real_time(policy) ? EPERM : 0;
}

int pthread_getschedparam(pthread_t thread, int *policy, struct sched_param *param)
{
	(void)thread;
	*policy = SCHED_OTHER;
	param->sched_priority = 0;
	return 0;
}

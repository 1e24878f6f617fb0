/* eventfd and epoll: the counters a driver waits on (VFIO signals its
 * interrupts on an eventfd) and the waits on them, kept by the kernel
 * (native/posix/events.h). A wait counts against the driver's time budget. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "posix.h"

/* The most events one epoll_wait asks the kernel for (lib/wrappers/posix.ts): fewer is allowed. */
#define EPOLL_MAX 1024

int eventfd(unsigned int count, int flags)
{
	return (int)posix_result(nooks_posix_eventfd(count, flags));
}

int eventfd_read(int fd, eventfd_t *value)
{
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

int eventfd_write(int fd, eventfd_t value)
{
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}

int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return (int)posix_result(nooks_posix_epoll_create(0));
}

int epoll_create1(int flags)
{
	return (int)posix_result(nooks_posix_epoll_create(flags));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	if (op != EPOLL_CTL_DEL && !event) {
		errno = EFAULT;
		return -1;
	}
	return (int)posix_result(nooks_posix_epoll_ctl(epfd, op, fd, event ? event->events : 0, event ? event->data.u64 : 0));
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	if (maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	return (int)posix_result(nooks_posix_epoll_wait(epfd, events, maxevents < EPOLL_MAX ? (size_t)maxevents : EPOLL_MAX, timeout));
}

/* A driver gets no signals: the mask changes nothing. */
int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask)
{
	(void)sigmask;
	return epoll_wait(epfd, events, maxevents, timeout);
}

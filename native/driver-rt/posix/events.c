/* eventfd, epoll and poll: the counters a driver waits on (VFIO signals its
 * interrupts on an eventfd) and the waits on them, kept by the kernel
 * (native/posix/events.h). A wait counts against the driver's time budget. */
#define _GNU_SOURCE	/* ppoll */
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "posix.h"

/* The most events one epoll_wait asks the kernel for (lib/wrappers/posix.ts): fewer is allowed. */
#define EPOLL_MAX 1024
/* The most descriptors one poll watches (lib/wrappers/posix.ts). */
#define POLL_MAX 1024

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

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	if (nfds > POLL_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (int)posix_result(nooks_posix_poll(fds, nfds, timeout));
}

/* As epoll_pwait, the mask changes nothing; the timeout rounds up to whole ms. */
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask)
{
	long long ms = -1;

	(void)sigmask;
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L) {
			errno = EINVAL;
			return -1;
		}
		ms = (long long)timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000;
		if (ms > INT_MAX)
			ms = INT_MAX;
	}
	return poll(fds, nfds, (int)ms);
}

/* _FORTIFY_SOURCE's poll and ppoll: the array checked against its buffer. */
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return poll(fds, nfds, timeout);
}

int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return ppoll(fds, nfds, timeout, sigmask);
}

/* eventfd, epoll, poll and select: the counters a driver waits on (VFIO signals its
 * interrupts on an eventfd) and the waits on them, kept by the kernel
 * (native/posix/events.h). A wait counts against the driver's time budget. */
#define _GNU_SOURCE	/* ppoll */
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

#include "posix.h"

/* The most events one epoll_wait asks the kernel for (lib/wrappers/posix.ts): fewer is allowed. */
#define EPOLL_MAX 1024
/* The most descriptors one poll watches (lib/wrappers/posix.ts). */
#define POLL_MAX 1024

/* poll's timeout for t: whole ms, rounded up, at most INT_MAX; -1 (none) for
 * NULL; -2 for one Linux refuses (posix_ns_of). */
static int timeout_ms(const struct timespec *t)
{
	long long ns = t ? posix_ns_of(t) : -1, ms = ns / 1000000 + (ns % 1000000 > 0);

	return !t ? -1 : ns < 0 ? -2 : ms > INT_MAX ? INT_MAX : (int)ms;
}

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

/* The calling thread's signal mask is sigmask's (if not NULL) while the
 * kernel waits: a pending signal it unblocks has its handler run and ends
 * the wait (EINTR), as Linux's, which closes the window between a look at
 * a flag a handler sets and the wait (docs/drivers.md, "Programs"). */
static int epoll_wait_masked(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask)
{
	if (maxevents <= 0) {
		errno = EINVAL;
		return -1;
	}
	return (int)posix_result(nooks_posix_epoll_wait(epfd, events, maxevents < EPOLL_MAX ? (size_t)maxevents : EPOLL_MAX, timeout,
							sigmask != NULL, sigmask ? posix_signal_set_of(sigmask) : 0));
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	return epoll_wait_masked(epfd, events, maxevents, timeout, NULL);
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask)
{
	return epoll_wait_masked(epfd, events, maxevents, timeout, sigmask);
}

/* poll under a signal mask, as epoll_wait_masked. */
static int poll_masked(struct pollfd *fds, nfds_t nfds, int timeout, const sigset_t *sigmask)
{
	if (nfds > POLL_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (int)posix_result(nooks_posix_poll(fds, nfds, timeout, sigmask != NULL, sigmask ? posix_signal_set_of(sigmask) : 0));
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return poll_masked(fds, nfds, timeout, NULL);
}

/* The timeout rounds up to whole ms. */
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask)
{
	int ms = timeout_ms(timeout);

	if (ms == -2) {
		errno = EINVAL;
		return -1;
	}
	return poll_masked(fds, nfds, ms, sigmask);
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

/* select and pselect as poll over the descriptors of the sets: readable
 * (POLLIN, or an error or hang-up, as Linux counts them), writable, and
 * exceptional (POLLPRI). A descriptor not open is EBADF. */
#define SELECT_ON_STACK 64	/* descriptors watched without a heap block */

static short select_events(int fd, fd_set *r, fd_set *w, fd_set *x)
{
	return (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) | (x && FD_ISSET(fd, x) ? POLLPRI : 0));
}

static int select_ms(int nfds, fd_set *r, fd_set *w, fd_set *x, int ms, const sigset_t *sigmask)
{
	struct pollfd small[SELECT_ON_STACK], *p = small;
	int n = 0, ready = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++)
		n += select_events(fd, r, w, x) != 0;
	if (n > SELECT_ON_STACK && !(p = malloc((size_t)n * sizeof(*p))))
		return -1;
	n = 0;
	for (int fd = 0; fd < nfds; fd++)
		if (select_events(fd, r, w, x))
			p[n++] = (struct pollfd){ .fd = fd, .events = select_events(fd, r, w, x) };
	ready = poll_masked(n ? p : NULL, (nfds_t)n, ms, sigmask);
	for (int i = 0; i < n && ready >= 0; i++)
		if (p[i].revents & POLLNVAL) {
			errno = EBADF;
			ready = -1;
		}
	if (ready < 0) {
		if (p != small)
			free(p);
		return -1;
	}
	ready = 0;
	for (int i = 0; i < n; i++) {
		int fd = p[i].fd, in = (p[i].events & POLLIN) && (p[i].revents & (POLLIN | POLLHUP | POLLERR)),
		    out = (p[i].events & POLLOUT) && (p[i].revents & (POLLOUT | POLLERR)), pri = (p[i].events & POLLPRI) && (p[i].revents & POLLPRI);

		if (r && FD_ISSET(fd, r) && !in)
			FD_CLR(fd, r);
		if (w && FD_ISSET(fd, w) && !out)
			FD_CLR(fd, w);
		if (x && FD_ISSET(fd, x) && !pri)
			FD_CLR(fd, x);
		ready += in + out + pri;
	}
	if (p != small)
		free(p);
	return ready;
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	/* tv_usec out of range: a tv_nsec posix_ns_of refuses */
	struct timespec ts = { .tv_sec = tv ? tv->tv_sec : 0, .tv_nsec = !tv || tv->tv_usec < 0 || tv->tv_usec >= 1000000 ? -1 : tv->tv_usec * 1000 };

	return pselect(nfds, r, w, x, tv ? &ts : NULL, NULL);
}

int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *sigmask)
{
	int ms = timeout_ms(ts);

	if (ms == -2) {
		errno = EINVAL;
		return -1;
	}
	return select_ms(nfds, r, w, x, ms, sigmask);
}

/* _FORTIFY_SOURCE's FD_SET, FD_CLR, FD_ISSET: the descriptor checked against FD_SETSIZE. */
long int __fdelt_chk(long int d);
long int __fdelt_chk(long int d)
{
	if (d < 0 || d >= FD_SETSIZE)
		__chk_fail();
	return d / NFDBITS;
}

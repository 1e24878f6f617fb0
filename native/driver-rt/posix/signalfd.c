/* signalfd: a descriptor a program reads its pending signals from, kept by
 * the kernel (native/posix/signalfd.cc); read, poll, select, epoll and close
 * are those of every descriptor (files.c, events.c). */
#include "posix.h"

#include <sys/signalfd.h>

/* fd -1: a new one; else fd's mask is `mask` from now on (its flags stay). */
int signalfd(int fd, const sigset_t *mask, int flags)
{
	return (int)posix_result(nooks_posix_signalfd(fd, posix_signal_set_of(mask), flags));
}

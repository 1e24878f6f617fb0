/* pipe and pipe2: a pipe between the driver's own threads (an event loop's
 * self-pipe), kept by the kernel (native/posix/pipe.h); its ends are read,
 * written, polled and closed as any descriptor. */
#define _GNU_SOURCE	/* pipe2 */
#include <unistd.h>

#include "posix.h"

int pipe2(int fds[2], int flags)
{
	if (!fds) {
		errno = EFAULT;
		return -1;
	}
	return (int)posix_result(nooks_posix_pipe(fds, flags));
}

int pipe(int fds[2])
{
	return pipe2(fds, 0);
}

/* What the seccomp launchers (no-futex-waitv.c, futex-efault.c,
 * no-membarrier.c) share: install a seccomp filter for this process and every
 * process it starts (a filter is inherited across fork and exec), check that
 * it takes effect, tell the command so in its environment, and exec it. */
#pragma once
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* x86-64's numbers, whatever the build's headers know */
#define NR_MEMBARRIER 324
#define NR_FUTEX_WAITV 449

/* A filter's first steps: a call of another architecture, whose numbers mean
 * other calls, jumps `to_allow` steps ahead (to the step that allows it); any
 * other call's number is loaded for the next step. */
#define FILTER_LOAD_NR(to_allow) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, (to_allow)), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/* The call `nr` (its number loaded) fails with `e`; any other goes on to
 * the next step, its number still loaded. */
#define FILTER_FAIL_CALL(nr, e) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))

/* Says why the launcher `name` gives up; 125, its exit status. */
static int launcher_fail(const char *name, const char *what, int e)
{
	fprintf(stderr, "%s: %s: %s\n", name, what, strerror(e));
	return 125;
}

/* Installs `filter`, checks that the call `nr` with every argument 0 (for
 * futex_waitv, of no futexes: EINVAL where the kernel has it; for membarrier,
 * MEMBARRIER_CMD_QUERY) now fails with `nr_errno`, sets `var`=`value` and
 * execs command[0] with command; returns (125) only if one of those fails. */
static int filter_and_exec(const char *name, struct sock_fprog *filter, long nr, int nr_errno, const char *var, const char *value,
			   char **command)
{
	long r;

	/* Without privileges a process may filter its own calls only once it can gain none. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return launcher_fail(name, "PR_SET_NO_NEW_PRIVS", errno);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, filter))
		return launcher_fail(name, "seccomp", errno);
	r = syscall(nr, 0, 0, 0, 0, 0);
	if (r >= 0 || errno != nr_errno)
		return launcher_fail(name, "the call answers otherwise under the filter", r >= 0 ? 0 : errno);
	if (setenv(var, value, 1))
		return launcher_fail(name, "setenv", errno);
	execvp(command[0], command);
	return launcher_fail(name, command[0], errno);
}

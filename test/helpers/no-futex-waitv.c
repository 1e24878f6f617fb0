/* no-futex-waitv <command> [args...]: runs the command as on Linux before
 * 5.16, which has no futex_waitv. A seccomp filter makes that system call
 * (449 on x86-64) fail with ENOSYS, as an older kernel's table does, in this
 * process and every process it starts (a filter is inherited across fork and
 * exec): the kernel's waits take their fallback (native/kapi/wait.cc,
 * sleep_on_last). NOOKS_TEST_NO_FUTEX_WAITV=1 in the command's environment
 * tells the tests so (test/helpers/tasks.ts).
 * Exits 125 if the filter cannot be installed or does not take effect. */
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

#define NR_FUTEX_WAITV 449	/* x86-64's, whatever the build's headers know */

/* futex_waitv of no futexes: the errno it fails with (EINVAL where the kernel has it). */
static int futex_waitv_errno(void)
{
	return syscall(NR_FUTEX_WAITV, NULL, 0, 0, NULL, 0) < 0 ? errno : 0;
}

static int fail(const char *what, int e)
{
	fprintf(stderr, "no-futex-waitv: %s: %s\n", what, strerror(e));
	return 125;
}

int main(int argc, char **argv)
{
	/* A system call's number means futex_waitv only on x86-64: others pass. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_FUTEX_WAITV, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	int e;

	if (argc < 2) {
		fprintf(stderr, "usage: no-futex-waitv <command> [args...]\n");
		return 125;
	}
	/* Without privileges a process may filter its own calls only once it can gain none. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail("PR_SET_NO_NEW_PRIVS", errno);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter))
		return fail("seccomp", errno);
	e = futex_waitv_errno();
	if (e != ENOSYS)
		return fail("futex_waitv still answers under the filter", e);
	if (setenv("NOOKS_TEST_NO_FUTEX_WAITV", "1", 1))
		return fail("setenv", errno);
	execvp(argv[1], argv + 1);
	return fail(argv[1], errno);
}

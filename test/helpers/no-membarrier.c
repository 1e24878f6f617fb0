/* no-membarrier <ENOSYS|EPERM> <command> [args...]: runs the command without
 * membarrier(2), as on a kernel built without it (ENOSYS) or in a sandbox
 * whose seccomp profile refuses it (EPERM). A seccomp filter, inherited by
 * every process the command starts, fails the call with that error: the
 * nooks kernel's registration at boot fails, and every crossing and teardown
 * pays a full fence instead (native/xpc/entry_barrier.cc). One command is
 * not answered so: MEMBARRIER_CMD_PRIVATE_EXPEDITED, the teardown's barrier,
 * kills the process. Once the registration has failed, that call would fail
 * too and order nothing, so a kernel that makes it has lost its teardown's
 * half of the barrier without a word: the kill makes that loud.
 * NOOKS_TEST_NO_MEMBARRIER=<error> in the command's environment tells the
 * tests so. Exits 125 if the filter cannot be installed or does not take
 * effect. */
#include <linux/membarrier.h>

#include "seccomp-launcher.h"

int main(int argc, char **argv)
{
	int e = argc > 1 && !strcmp(argv[1], "EPERM") ? EPERM : ENOSYS;
	struct sock_filter code[] = {
		FILTER_LOAD_NR(6),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_MEMBARRIER, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args)),	/* cmd */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | e),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (argc < 3 || (e == ENOSYS && strcmp(argv[1], "ENOSYS"))) {
		fprintf(stderr, "usage: no-membarrier <ENOSYS|EPERM> <command> [args...]\n");
		return 125;
	}
	return filter_and_exec("no-membarrier", &filter, NR_MEMBARRIER, e, "NOOKS_TEST_NO_MEMBARRIER", argv[1], argv + 2);
}

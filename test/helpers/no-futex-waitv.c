/* no-futex-waitv <command> [args...]: runs the command as on Linux before
 * 5.16, which has no futex_waitv. A seccomp filter makes that system call
 * (449 on x86-64) fail with ENOSYS, as an older kernel's table does, in this
 * process and every process it starts (a filter is inherited across fork and
 * exec): the kernel's waits take their fallback (native/kapi/wait.cc,
 * sleep_on_last). NOOKS_TEST_NO_FUTEX_WAITV=1 in the command's environment
 * tells the tests so (test/helpers/tasks.ts).
 * Exits 125 if the filter cannot be installed or does not take effect. */
#include "seccomp-launcher.h"

int main(int argc, char **argv)
{
	struct sock_filter code[] = {
		FILTER_LOAD_NR(3),
		FILTER_FAIL_CALL(NR_FUTEX_WAITV, ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (argc < 2) {
		fprintf(stderr, "usage: no-futex-waitv <command> [args...]\n");
		return 125;
	}
	return filter_and_exec("no-futex-waitv", &filter, NR_FUTEX_WAITV, ENOSYS, "NOOKS_TEST_NO_FUTEX_WAITV", "1", argv + 1);
}

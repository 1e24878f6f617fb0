/* futex-efault <waitv|fallback> <command> [args...]: runs the command with
 * the kernel's futex waits on a driver's word failing with EFAULT, as they
 * do when another driver ran meanwhile under mprotect and closed the word's
 * memory (native/kapi/wait.cc, sleep_on): a race the tests cannot bring
 * about on purpose. A seccomp filter, inherited by every process the command
 * starts, answers
 *  - waitv: every futex_waitv (449 on x86-64, which only the kernel's waits
 *    make) with EFAULT;
 *  - fallback: futex_waitv with ENOSYS, as on Linux before 5.16, and the
 *    fallback's futex (202) FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG (with or
 *    without FUTEX_CLOCK_REALTIME) on a word holding FUTEX_EFAULT_SEEN with
 *    EFAULT: the C library's own waits, which would abort on EFAULT, pass.
 * NOOKS_TEST_FUTEX_EFAULT=<mode> in the command's environment tells the
 * tests so. Exits 125 if the filter cannot be installed or does not take
 * effect. */
#include <linux/futex.h>

#include "seccomp-launcher.h"

#define NR_FUTEX 202
#define FUTEX_EFAULT_SEEN 0x5eccfa17u	/* the driver's word in test/futex-efault.test.ts */
#define LOW(arg) (offsetof(struct seccomp_data, args) + (arg) * 8)	/* an argument's low 32 bits (little-endian) */

int main(int argc, char **argv)
{
	int waitv = argc > 1 && !strcmp(argv[1], "waitv");
	int waitv_errno = waitv ? EFAULT : ENOSYS;
	struct sock_filter code[] = {
		FILTER_LOAD_NR(10),
		FILTER_FAIL_CALL(NR_FUTEX_WAITV, waitv_errno),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_FUTEX, 0, 6),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW(1)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(unsigned)FUTEX_CLOCK_REALTIME),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW(2)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_EFAULT_SEEN, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EFAULT),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog filter = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (argc < 3 || (!waitv && strcmp(argv[1], "fallback"))) {
		fprintf(stderr, "usage: futex-efault <waitv|fallback> <command> [args...]\n");
		return 125;
	}
	return filter_and_exec("futex-efault", &filter, NR_FUTEX_WAITV, waitv_errno, "NOOKS_TEST_FUTEX_EFAULT", argv[1], argv + 2);
}

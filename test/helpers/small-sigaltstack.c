// Preloaded (LD_PRELOAD) by test/small-sigaltstack.test.ts: before node
// starts, gives the process's main thread an alternate signal stack of
// MINSIGSTKSZ bytes, as a library in the process may have done, and says so
// in the environment (NOOKS_TEST_SIGALTSTACK: its size), for the program to
// report that it ran. One signal frame of a CPU with AVX-512 does not fit in
// it (AT_MINSIGSTKSZ: 3376 bytes). A kernel that checks the size
// (strict_sas_size) refuses such a stack: then it says "refused".
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#define kSize 2048 /* MINSIGSTKSZ in the kernel's ABI (glibc's may be sysconf's) */

__attribute__((constructor)) static void small_sigaltstack(void) {
	stack_t ss = {.ss_sp = mmap(NULL, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), .ss_size = kSize};
	if (ss.ss_sp == MAP_FAILED) abort();
	setenv("NOOKS_TEST_SIGALTSTACK", sigaltstack(&ss, NULL) == 0 ? "2048" : "refused", 1);
}

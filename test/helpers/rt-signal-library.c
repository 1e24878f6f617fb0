// Preloaded (LD_PRELOAD) by test/abort-signal.test.ts: a library of the host's
// own that uses the real-time signal the kernel ends driver code with
// (SIGRTMIN+3, native/trap/trap.cc): before node starts it installs a handler
// for it, which writes one byte to the file NOOKS_TEST_RT_COUNT names per
// signal it gets, and says the signal's number in NOOKS_TEST_RT_SIGNAL. With
// NOOKS_TEST_RT_RESETHAND set the handler is SA_RESETHAND: it runs once, and
// the next signal has the default action (it ends the process). With
// NOOKS_TEST_RT_MASK set its sa_mask holds SIGUSR2, and the byte it writes
// says whether it ran with the mask it asked for: '+' with SIGUSR2 and its own
// signal blocked (no SA_NODEFER), 'm' if not.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int count_fd = -1;
static int check_mask;

static void counted(int sig) {
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	const char *mark = !check_mask || (sigismember(&now, SIGUSR2) && sigismember(&now, sig)) ? "+" : "m";
	if (write(count_fd, mark, 1) != 1) abort();
}

__attribute__((constructor)) static void rt_signal_library(void) {
	const char *path = getenv("NOOKS_TEST_RT_COUNT");
	if (!path) return;
	count_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	struct sigaction sa = {.sa_handler = counted, .sa_flags = SA_RESTART | (getenv("NOOKS_TEST_RT_RESETHAND") ? SA_RESETHAND : 0)};
	sigemptyset(&sa.sa_mask);
	check_mask = getenv("NOOKS_TEST_RT_MASK") != NULL;
	if (check_mask) sigaddset(&sa.sa_mask, SIGUSR2);
	if (count_fd < 0 || sigaction(SIGRTMIN + 3, &sa, NULL) != 0) abort();
	char number[16];
	snprintf(number, sizeof number, "%d", SIGRTMIN + 3);
	setenv("NOOKS_TEST_RT_SIGNAL", number, 1);
}

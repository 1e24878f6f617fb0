/* signal and sigaction. A program (program.c) is sent the signals of
 * Driver.kill (docs/drivers.md, "Programs"): each disposition is kept, and
 * nooks_posix_signal carries it out on the thread the kernel starts for the
 * signal (once no mask blocks it: native/posix/program_signals.h); one that
 * ignores it discards it if pending. A library-style driver is sent none: SIG_DFL and SIG_IGN are kept
 * only so that the old one is answered as Linux would (a pipe gives EPIPE,
 * never SIGPIPE, either way), and a handler, which would never run, is
 * refused (EINVAL) with one kernel log line saying why, so a driver whose
 * main loop installs one still loads and its author sees it. The
 * dispositions are static data: a restart forgets them. */
#define _GNU_SOURCE
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include "posix.h"

#define SIGNALS 64
/* The flags Linux keeps (UAPI_SA_FLAGS: it clears the others) and the one
 * glibc adds to every disposition it sets on x86-64. */
#define SA_EXPOSE_TAGBITS_FLAG 0x00000800
#define SA_RESTORER_FLAG 0x04000000
#define KEPT_FLAGS (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | \
		    SA_EXPOSE_TAGBITS_FLAG | SA_RESTORER_FLAG)

/* Each signal's disposition as the kernel keeps it; zeroed: SIG_DFL. */
static struct {
	void *handler;	/* SIG_DFL, SIG_IGN, or the program's sa_handler or sa_sigaction */
	int flags;
	unsigned long mask;
	unsigned long set;	/* how many sigactions set it: which one a delivery ran */
} dispositions[SIGNALS + 1];

static const char *const names[32] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2", [SIGPIPE] = "SIGPIPE",
	[SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT", [SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

/* What SIGRTMIN and SIGRTMAX call: glibc's range, its own 32 and 33 below it. */
int __libc_current_sigrtmin(void)
{
	return 34;
}

int __libc_current_sigrtmax(void)
{
	return SIGNALS;
}

static void log_handler_refused(int sig)
{
	char text[160];
	int n;

	if (sig < 32)
		n = snprintf(text, sizeof(text), "a handler for %s", names[sig]);
	else
		n = snprintf(text, sizeof(text), "a handler for SIGRTMIN+%d", sig - __libc_current_sigrtmin());
	n += snprintf(text + n, sizeof(text) - (size_t)n,
		      " is refused (EINVAL): a driver is sent no signals, so it would never run (SIG_IGN and SIG_DFL are accepted)");
	posix_log(3, "", text, (size_t)n);
}

static bool ends_by_default(int sig);

/* Whether a disposition `handler` of sig ignores it: SIG_IGN, or SIG_DFL where Linux's default ignores it. */
static bool ignores(int sig, sighandler_t handler)
{
	return handler == SIG_IGN || (handler == SIG_DFL && !ends_by_default(sig));
}

/* The kernel decides what is delivered and hands each delivery's thread the
 * disposition in force then: as Linux blocks them while a handler runs, a
 * run of sig's holds pending its sa_mask's signals and, but under
 * SA_NODEFER, sig itself (native/posix/program_signals.h); none for SIG_IGN
 * and SIG_DFL; SA_RESETHAND's next run only. */
static void tell_kernel(int sig)
{
	void *handler = dispositions[sig].handler;
	int flags = dispositions[sig].flags;
	bool handles = handler != (void *)SIG_IGN && handler != (void *)SIG_DFL;

	nooks_posix_sigaction(sig, !handles ? 0 : dispositions[sig].mask | (flags & SA_NODEFER ? 0 : posix_signal_bit(sig)),
			      handles && (flags & SA_RESETHAND), (unsigned long)handler, flags, dispositions[sig].set);
}

/* glibc's checks (1 to 64, not its own 32 and 33), then Linux's: SIGKILL and
 * SIGSTOP keep their disposition; then the one refusal of the personality. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig < 1 || sig > SIGNALS || posix_signal_glibc_internal(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
		return (int)posix_result(-EINVAL);
	if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN && !posix_program()) {
		log_handler_refused(sig);
		return (int)posix_result(-EINVAL);
	}
	if (old) {	/* the rest of sa_mask as the caller had it, as glibc copies the kernel's 64 signals only */
		old->sa_handler = (sighandler_t)dispositions[sig].handler;
		old->sa_flags = dispositions[sig].flags;
		old->sa_mask.__val[0] = dispositions[sig].mask;
		old->sa_restorer = NULL;
	}
	if (act && posix_program() && ignores(sig, act->sa_handler))
		nooks_posix_sigdiscard(sig);	/* as POSIX: a pending one is discarded, blocked or not */
	if (act) {
		dispositions[sig].handler = (void *)act->sa_handler;
		dispositions[sig].flags = (act->sa_flags | SA_RESTORER_FLAG) & KEPT_FLAGS;
		dispositions[sig].mask = act->sa_mask.__val[0] & ~(posix_signal_bit(SIGKILL) | posix_signal_bit(SIGSTOP));
		dispositions[sig].set++;
	}
	if (act && posix_program())
		tell_kernel(sig);
	return 0;
}

/* signal's shape: `handler` with `flags` and `mask`, the old one answered;
 * SIG_ERR as a disposition is EINVAL, as glibc's. */
static sighandler_t set_handler(int sig, sighandler_t handler, int flags, unsigned long mask)
{
	struct sigaction act = { .sa_handler = handler, .sa_flags = flags }, old;

	if (handler == SIG_ERR || sig < 1 || sig > SIGNALS) {
		errno = EINVAL;
		return SIG_ERR;
	}
	act.sa_mask.__val[0] = mask;
	return sigaction(sig, &act, &old) ? SIG_ERR : old.sa_handler;
}

/* glibc's signal: BSD's semantics, the signal itself blocked in its handler
 * and SA_RESTART. */
sighandler_t signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, sig >= 1 && sig <= SIGNALS ? posix_signal_bit(sig) : 0);
}

/* glibc's signal under System V's semantics (its name under some feature
 * macros): the handler runs once (SA_RESETHAND), the signal not blocked in it,
 * no SA_RESTART. */
sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

/* Whether Linux's default action for `sig` ends the process (else it is
 * ignored: SIGCHLD, SIGCONT, SIGURG, SIGWINCH; the stops, which stop no
 * driver, likewise). */
static bool ends_by_default(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return false;
	default:
		return true;
	}
}

void posix_siginfo_of_kill(siginfo_t *info, int sig)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = sig;
	info->si_code = SI_USER;
	info->si_pid = getpid();
	info->si_uid = getuid();
}

/* Whether the last handler that ran had SA_RESTART: the read it cut short starts again. */
static bool last_restarts;

bool posix_signal_restarts(void)
{
	return last_restarts;
}

/* A signal Driver.kill sends (the kernel checked 1 to 64), carried out on the
 * thread the kernel started for it, inside the domain, by the disposition
 * in force at its delivery (`handler` with `flags`, what it holds `holds`:
 * the kernel's word, as Linux runs it whatever a sigaction sets since): its
 * handler runs (with a siginfo of SI_USER under SA_SIGINFO), SIG_IGN does
 * nothing, and SIG_DFL ends the program as killed by the signal (no atexit
 * handlers, no flush, as Linux) where Linux's default ends a process. Under
 * SA_RESETHAND the kernel made the disposition SIG_DFL as it delivered it:
 * so does the copy kept here, unless a sigaction (the `set`th was
 * delivered) set another since. 1 when a handler ran (the kernel then
 * interrupts the program's waits), else 0. */
static int carry_out(int sig, void *handler, int flags, unsigned long holds, unsigned long set)
{
	struct posix_thread *self = posix_thread_self();
	unsigned long mask = self->sigmask;

	if (handler == (void *)SIG_IGN)
		return 0;
	if (handler == (void *)SIG_DFL) {
		if (ends_by_default(sig))
			nooks_posix_killed(sig);
		return 0;
	}
	last_restarts = flags & SA_RESTART;
	if ((flags & SA_RESETHAND) && dispositions[sig].set == set) {
		dispositions[sig].handler = (void *)SIG_DFL;
		dispositions[sig].flags &= ~SA_SIGINFO;
	}
	/* The thread's mask while the handler runs is Linux's: what the kernel
	 * holds for the run (sigprocmask and sigpending answer it), restored as
	 * sigreturn restores it. */
	self->sigmask |= holds;
	if (flags & SA_SIGINFO) {
		siginfo_t info;
		ucontext_t context = { 0 };

		posix_siginfo_of_kill(&info, sig);
		((void (*)(int, siginfo_t *, void *))handler)(sig, &info, &context);
	} else {
		((void (*)(int))handler)(sig);
	}
	self->sigmask = mask;
	return 1;
}

/* `times` of sig, one after the other: one sent, or each that was pending
 * (a real-time signal's queue) and a mask let through, as Linux runs them
 * in turn, the first by the disposition in force at its delivery, the
 * others SIG_DFL's if it was SA_RESETHAND's; 1 when a handler ran. While it
 * runs the kernel holds pending what its disposition blocks (tell_kernel):
 * a second sig waits there for it to return (but under SA_NODEFER), never
 * running the handler beside itself. */
__attribute__((visibility("default"))) int nooks_posix_signal(int sig, unsigned int times, void *handler, int flags,
							      unsigned long holds, unsigned long set)
{
	int handled = 0;

	while (times--) {
		handled |= carry_out(sig, handler, flags, holds, set);
		if (flags & SA_RESETHAND) {
			handler = (void *)SIG_DFL;
			holds = 0;
		}
	}
	return handled;
}

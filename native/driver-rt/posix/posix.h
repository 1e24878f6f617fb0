/*
 * The POSIX personality: the subset of the C library that `nooks build
 * --posix` links into a driver written against libc (docs/drivers.md). It
 * runs inside the driver's domain, like the driver runtime beside it
 * (native/driver-rt/); what it cannot do there it asks of the kernel through
 * the nooks_posix_* calls (lib/wrappers/posix.ts, checked like every kernel
 * call). Its definitions take the prototypes of the system's own headers,
 * so the compiler holds them to what unmodified sources expect; they are
 * hidden (-fvisibility=hidden): a driver's calls bind to them at link time,
 * never to the host's libc.
 *
 * No TLS of the host's in it: errno lives in the thread's area at the top
 * of its domain stack (thread_slot.c), the streams' partial lines in static
 * data; the driver's own __thread variables in a block below (tls.c). A
 * recovery resets all of it with the driver's data and frees its heap.
 */
#ifndef NOOKS_POSIX_H
#define NOOKS_POSIX_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nooks/kapi.h>
#include <nooks/posix_calls.h>
#include <nooks/thread_area.h>

#define NS_PER_S 1000000000LL
/* A time in nanoseconds (timespec.c), saturating at LLONG_MAX (some 292 years: a
 * deadline past it is never reached, as Linux clamps one past its range), or
 * -1 for what Linux refuses: a negative part, tv_nsec a second or more. */
long long posix_ns_of(const struct timespec *t);
/* A timed wait's deadline (an absolute time) in nanoseconds: as posix_ns_of,
 * but one before the clock's start is 0, a deadline passed (glibc's timed
 * waits answer ETIMEDOUT, not EINVAL: only a bad tv_nsec is that). */
long long posix_deadline_of(const struct timespec *t);
/* Writes n bytes to a stream: stdout or stderr, where each '\n' ends one
 * line of the kernel log, or a FILE over a file. 0, or -1 and errno. */
int posix_stream_write(FILE *f, const char *p, size_t n);
/* Logs a message at a kernel log level (0 to 7: syslog's LOG_* are KERN_*),
 * prefix then text, as stdout's lines are logged: each '\n' ends a line, a
 * line longer than a stream's buffer goes in pieces; its end ends a line. */
void posix_log(int level, const char *prefix, const char *text, size_t n);
/* fmt formatted into `small` or, longer, a heap block (*n its length);
 * NULL when that fails (stdio.c). */
#define POSIX_SMALL_TEXT 256
char *posix_format(char small[POSIX_SMALL_TEXT], int *n, const char *fmt, va_list ap);
/* Logs what stdout and stderr hold of an unfinished line, and writes what
 * the FILE streams over files hold, but for those another thread holds (exit does). */
void posix_streams_flush(void);
/* Whether the driver is a program (defines main). */
bool posix_program(void);
/* What a handler (SA_SIGINFO) and sigwaitinfo are told of a signal Driver.kill sent: SI_USER from the kernel's pid and uid (signal.c). */
void posix_siginfo_of_kill(siginfo_t *info, int sig);
/* Whether the last signal handler that ran had SA_RESTART (signal.c): a read it cut short starts again. */
bool posix_signal_restarts(void);
/* What exit() and the unload run (start.c): the atexit handlers, then the destructors, each in reverse order. */
void posix_run_exit_handlers(void);
/* write() until all n bytes are written (files.c): 0, or -1 when a write
 * fails or writes nothing. */
int posix_write_all(int fd, const char *p, size_t n);
/* Writes n bytes to a FILE stream over a file (stream.c): 0, or -1 and errno
 * (EBADF for what is no such stream). */
int posix_file_write(FILE *f, const char *p, size_t n);
/* A lock in a word of the driver's memory, 0 when free (word_lock.c): no
 * kernel call unless contended; a waiter waits in the kernel. */
void posix_word_lock(unsigned int *word);
/* The lock taken if free, at once: whether it was. */
bool posix_word_trylock(unsigned int *word);
void posix_word_unlock(unsigned int *word);
/* fflush of a FILE stream over a file; of all of them (posix_files_flush);
 * of those no other thread holds, at exit (posix_files_flush_at_exit). */
int posix_file_flush(FILE *f);
void posix_files_flush(void);
void posix_files_flush_at_exit(void);
/* What the scanf family reads: bytes from `get` (EOF at the end), and the
 * last of them given back by `unget` (one byte, never more). */
struct scan_source {
	int (*get)(void *ctx);
	void (*unget)(int c, void *ctx);
	void *ctx;
};
/* vscanf over a source (scanf.c): the conversions assigned, or EOF. */
int posix_vscan(struct scan_source *src, const char *fmt, va_list ap);
/* _FORTIFY_SOURCE's overflow: the driver ends as abort() ends it, with glibc's message (fortify.c). */
void __chk_fail(void) __attribute__((noreturn));
/* Thread-specific data keys (keys.c). */
#define POSIX_KEYS 32
/* What the personality keeps per thread, without TLS: the thread's area
 * (<nooks/thread_area.h>), zero when the thread first runs in the driver and
 * again after a restart (thread_slot.c). */
struct posix_thread {
	int tid;		/* the kernel's id of the thread (its locks' owner): 0 until first asked */
	int errno_value;
	unsigned long handle;	/* pthread_self: 0 until first asked */
	void **exit_to;		/* pthread_exit's way back to its thread's main (thread.c); NULL: not a thread pthread_create started */
	void *exit_value;
	unsigned long sigmask;	/* pthread_sigmask's, signals 1 to 64 (sigmask.c); a program's kernel keeps it too */
	char *tls_block;	/* the thread's __thread variables (tls.c): NULL until its first access */
	struct {
		unsigned int seq;	/* the key's, when the value was set: a value of a deleted key is not seen */
		void *value;
	} specific[POSIX_KEYS];
};
_Static_assert(sizeof(struct posix_thread) <= NOOKS_PART_OFFSET, "a thread's state fits its area, below the part word");
/* The calling thread's; found from its stack pointer, no kernel call. */
static inline struct posix_thread *posix_thread_self(void)
{
	return nooks_thread_area();
}
/* The kernel's id of the calling thread (asked once per thread). */
int posix_thread_tid(void);
/* A thread's body (thread.c): start(arg), or what its pthread_exit gave,
 * then its keys' destructors; a program's thread, counted by
 * posix_program_thread_begins before it starts, is then counted out, and
 * the last one out ends the program (exit(0), as glibc's). */
void *posix_thread_body(void *(*start)(void *), void *arg);
void posix_program_thread_begins(void);
/* The thread of `self` ends: its keys' destructors run (keys.c). */
void posix_keys_end(struct posix_thread *self);
/* A pid that sched_*affinity and sched_setscheduler & co. name: 0 (the calling
 * thread) or the process's; ESRCH for any other (no thread of the driver's). */
int posix_pid_error(pid_t pid);
/* What setting a scheduling policy and priority answers (sched.c): EINVAL, EPERM for real time, or 0. */
int posix_sched_error(int policy, int priority);
/* Signals 1 to 64 are bits 0 to 63 of a sigset_t's first word (sigset.c). */
static inline unsigned long posix_signal_bit(int sig)
{
	return 1UL << (sig - 1);
}
/* A sigset_t's signals 1 to 64 as a mask may hold them (never SIGKILL,
 * SIGSTOP, 32 or 33), and a set of such bits (sigmask.c). */
unsigned long posix_signal_set_of(const sigset_t *set);
void posix_signal_set_to(sigset_t *set, unsigned long bits);
/* glibc's own two, its thread cancellation and set*id (32 and 33): EINVAL
 * to add to a set or to give a disposition, as glibc answers. */
static inline bool posix_signal_glibc_internal(int sig)
{
	return sig == 32 || sig == 33;
}
/* A kernel call's result as libc returns it: -errno becomes -1 and errno. */
static inline long posix_result(long r)
{
	if (r >= 0)
		return r;
	errno = (int)-r;
	return -1;
}
/* A digit's value in bases up to 36 (either case); 99 for what is none, so
 * `posix_digit(c) < base` tests a digit of the base (strtol, scanf). */
static inline int posix_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 32;
	return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}
/* Ends the driver as abort() does, with `message` (at most 511 bytes kept). */
void posix_abort(const char *message) __attribute__((noreturn));

#endif

/* The process a driver sees: the kernel's ids, one CPU, the environment of
 * the load option `env`; and its end, which is a contained driver failure. */
#include <unistd.h>

#include "posix.h"

pid_t getpid(void)
{
	return nooks_posix_getpid();
}

uid_t getuid(void)
{
	return nooks_posix_getuid();
}

uid_t geteuid(void)
{
	return nooks_posix_geteuid();
}

int getpagesize(void)
{
	return 4096;
}

/* No descriptor of a driver is a terminal. */
int isatty(int fd)
{
	(void)fd;
	errno = ENOTTY;
	return 0;
}

long sysconf(int name)
{
	switch (name) {
	case _SC_PAGESIZE:
		return 4096;
	case _SC_NPROCESSORS_ONLN:
	case _SC_NPROCESSORS_CONF:
		return 1;	/* the kernel presents one CPU to a driver (on_each_cpu) */
	case _SC_CLK_TCK:
		return 100;
	case _SC_OPEN_MAX:
		return 1024;	/* a driver's descriptors (native/posix/fd_table.cc) */
	case _SC_PHYS_PAGES:
	case _SC_AVPHYS_PAGES:
	case _SC_LEVEL1_DCACHE_LINESIZE:
		return posix_result(nooks_posix_host_sysconf(name));	/* the host's: its memory, its CPU's cache */
	default:
		errno = EINVAL;
		return -1;
	}
}

/* getenv's values, fetched once per name and kept in the heap, so that the
 * pointer it returns stays valid (until a recovery resets the driver). */
struct variable {
	struct variable *next;
	const char *value;
	char name[];
};
static struct variable *variables;
static spinlock_t variables_lock;

static struct variable *lookup(const char *name)
{
	struct variable *v;

	spin_lock(&variables_lock);
	for (v = variables; v && strcmp(v->name, name); v = v->next)
		;
	spin_unlock(&variables_lock);
	return v;
}

char *getenv(const char *name)
{
	size_t name_len = strnlen(name, 257);
	struct variable *v = NULL;
	long len;

	if (name_len > 256 || !name_len || strchr(name, '='))
		return NULL;
	v = lookup(name);
	if (v)
		return (char *)v->value;
	len = nooks_posix_getenv(name, NULL, 0);
	if (len < 0)
		return NULL;
	v = malloc(sizeof(*v) + name_len + 1 + (size_t)len + 1);
	if (!v)
		return NULL;
	memcpy(v->name, name, name_len + 1);
	v->value = v->name + name_len + 1;
	nooks_posix_getenv(name, (char *)v->value, (size_t)len + 1);
	spin_lock(&variables_lock);
	v->next = variables;
	variables = v;
	spin_unlock(&variables_lock);
	return (char *)v->value;
}

void exit(int status)
{
	posix_run_exit_handlers();
	posix_streams_flush();
	nooks_posix_exit(status);
	__builtin_unreachable();
}

void _exit(int status)
{
	nooks_posix_exit(status);
	__builtin_unreachable();
}

void _Exit(int status)
{
	nooks_posix_exit(status);
	__builtin_unreachable();
}

void posix_abort(const char *message)
{
	char cut[512];

	snprintf(cut, sizeof(cut), "%s", message);
	nooks_posix_abort(cut);
	__builtin_unreachable();
}

void abort(void)
{
	posix_abort("abort()");
}

/* assert(): glibc's message, on stderr as glibc writes it, and as the failure's. */
void __assert_fail(const char *assertion, const char *file, unsigned int line, const char *function)
{
	char message[512];

	snprintf(message, sizeof(message), "%s:%u: %s: Assertion `%s' failed.", file, line, function ? function : "?", assertion);
	fprintf(stderr, "%s\n", message);
	posix_abort(message);
}

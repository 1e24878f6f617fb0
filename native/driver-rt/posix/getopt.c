/* getopt, pure, for a driver that parses an argv it builds itself (from its
 * load options, say), answering as glibc's getopt in POSIX mode (under
 * POSIXLY_CORRECT, or an optstring starting with '+'): the options end at
 * the first non-option or at "--", nothing is permuted. A '-' first returns
 * each non-option as option 1, optarg pointing at it, as glibc. Errors are
 * glibc's messages on stderr (a kernel log line) unless opterr is 0 or the
 * optstring starts with ':'. The state is static data: a restart forgets it,
 * and optind = 0 starts a scan afresh, as glibc. */
#include <unistd.h>

#include "posix.h"

char *optarg;
int optind = 1, opterr = 1, optopt = '?';

/* Where the next option character is in argv[optind]; 0: at no element yet. */
static int next_char;
/* The last option in error, which glibc copies to optopt at every call's
 * end: 0 until the first error ('?' only before the first call). */
static int error_option;

static int scan(int argc, char *const argv[], const char *optstring)
{
	bool in_order = false, print_errors;
	const char *spec;
	char c;

	optarg = NULL;
	if (argc < 1)
		return -1;
	if (optind == 0) {
		optind = 1;
		next_char = 0;
	}
	if (*optstring == '-' || *optstring == '+')
		in_order = *optstring++ == '-';
	print_errors = opterr && *optstring != ':';
	if (next_char == 0) {
		const char *arg = optind < argc ? argv[optind] : NULL;

		if (arg && !strcmp(arg, "--")) {
			optind++;
			return -1;
		}
		if (!arg)
			return -1;
		if (arg[0] != '-' || arg[1] == '\0') {
			if (!in_order)
				return -1;
			optarg = argv[optind++];
			return 1;
		}
		next_char = 1;
	}
	c = argv[optind][next_char++];
	if (argv[optind][next_char] == '\0') {	/* its element's last character: the next call starts the next element */
		optind++;
		next_char = 0;
	}
	spec = c == ':' || c == ';' ? NULL : strchr(optstring, c);
	if (!spec) {
		if (print_errors)
			fprintf(stderr, "%s: invalid option -- '%c'\n", argv[0], c);
		error_option = c;
		return '?';
	}
	if (spec[1] != ':')
		return c;
	if (next_char) {	/* the rest of the element is the argument */
		optarg = argv[optind++] + next_char;
		next_char = 0;
	} else if (spec[2] != ':') {	/* a required argument: the next element */
		if (optind < argc) {
			optarg = argv[optind++];
			return c;
		}
		if (print_errors)
			fprintf(stderr, "%s: option requires an argument -- '%c'\n", argv[0], c);
		error_option = c;
		return *optstring == ':' ? ':' : '?';
	}
	return c;
}

int getopt(int argc, char *const argv[], const char *optstring)
{
	int c = scan(argc, argv, optstring);

	optopt = error_option;
	return c;
}

/* What <unistd.h> calls getopt under strict POSIX (no _GNU_SOURCE): POSIX mode is the only one here. */
int __posix_getopt(int argc, char *const argv[], const char *optstring);

int __posix_getopt(int argc, char *const argv[], const char *optstring)
{
	return getopt(argc, argv, optstring);
}

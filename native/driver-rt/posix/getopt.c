/* getopt, getopt_long and getopt_long_only, pure, for a driver that parses
 * an argv it builds itself (from its load options, say), answering as
 * glibc's in POSIX mode (under POSIXLY_CORRECT, or an optstring starting
 * with '+'): the options end at
 * the first non-option or at "--", nothing is permuted. A '-' first returns
 * each non-option as option 1, optarg pointing at it, as glibc. Errors are
 * glibc's messages on stderr (a kernel log line) unless opterr is 0 or the
 * optstring starts with ':'. The state is static data: a restart forgets it,
 * and optind = 0 starts a scan afresh, as glibc. No "W;" (-W foo as --foo). */
#include <getopt.h>
#include <unistd.h>

#include "posix.h"

char *optarg;
int optind = 1, opterr = 1, optopt = '?';

/* Where the next option character is in argv[optind]; 0: at no element yet.
 * The element it is in: a caller that sets optind (to 1, not 0) amid an
 * element, or hands another argv or a shorter string in the same buffer,
 * starts at a new element, never reading past the end of a shorter one
 * (glibc reads on from its stale pointer). */
static int next_char;
static const char *element;
/* The last option in error, which glibc copies to optopt at every call's
 * end: 0 until the first error ('?' only before the first call). */
static int error_option;

/* Whether two long options answer alike: an abbreviation of both is no ambiguity (getopt_long). */
static bool alike(const struct option *a, const struct option *b)
{
	return a->has_arg == b->has_arg && a->flag == b->flag && a->val == b->val;
}

/* The long option argv[optind] names past its `prefix` ("--", or "-" for
 * getopt_long_only), as glibc's process_long_option: an exact name, else an
 * abbreviation, ambiguous when two differ (under getopt_long_only, when two
 * match at all); "=value" its argument. -1: under getopt_long_only, no long
 * option but a short one it may be (the caller scans it as that). */
static int long_option(int argc, char *const argv[], const char *optstring, const struct option *longopts,
		       int *longind, bool long_only, bool print_errors, const char *prefix)
{
	const char *name = argv[optind] + strlen(prefix), *name_end = name;
	const struct option *found = NULL;
	bool ambiguous = false;
	int index = 0, i;
	size_t n;

	while (*name_end && *name_end != '=')
		name_end++;
	n = (size_t)(name_end - name);
	for (i = 0; longopts[i].name && !found; i++)
		if (!strncmp(longopts[i].name, name, n) && strlen(longopts[i].name) == n)
			found = &longopts[index = i];
	if (!found)	/* an abbreviation */
		for (i = 0; longopts[i].name; i++) {
			if (strncmp(longopts[i].name, name, n))
				continue;
			if (!found)
				found = &longopts[index = i];
			else if (long_only || !alike(found, &longopts[i]))
				ambiguous = true;
		}
	if (ambiguous) {
		if (print_errors) {
			fprintf(stderr, "%s: option '%s%s' is ambiguous; possibilities:", argv[0], prefix, name);
			for (i = 0; longopts[i].name; i++)
				if (!strncmp(longopts[i].name, name, n) && (i == index || long_only || !alike(found, &longopts[i])))
					fprintf(stderr, " '%s%s'", prefix, longopts[i].name);
			fprintf(stderr, "\n");
		}
		optind++;
		error_option = 0;
		return '?';
	}
	if (!found) {
		if (long_only && prefix[1] == '\0' && strchr(optstring, *name))
			return -1;
		if (print_errors)
			fprintf(stderr, "%s: unrecognized option '%s%s'\n", argv[0], prefix, name);
		optind++;
		error_option = 0;
		return '?';
	}
	optind++;
	if (*name_end) {
		if (found->has_arg == no_argument) {
			if (print_errors)
				fprintf(stderr, "%s: option '%s%s' doesn't allow an argument\n", argv[0], prefix, found->name);
			error_option = found->val;
			return '?';
		}
		optarg = (char *)name_end + 1;
	} else if (found->has_arg == required_argument) {
		if (optind >= argc) {
			if (print_errors)
				fprintf(stderr, "%s: option '%s%s' requires an argument\n", argv[0], prefix, found->name);
			error_option = found->val;
			return *optstring == ':' ? ':' : '?';
		}
		optarg = argv[optind++];
	}
	if (longind)
		*longind = index;
	if (found->flag) {
		*found->flag = found->val;
		return 0;
	}
	return found->val;
}

static int scan(int argc, char *const argv[], const char *optstring, const struct option *longopts, int *longind, bool long_only)
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
	if (next_char && (optind < 1 || optind >= argc || argv[optind] != element ||
			  strnlen(argv[optind], (size_t)next_char + 1) <= (size_t)next_char))
		next_char = 0;
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
		/* "--name" is always a long option; under getopt_long_only "-name"
		 * too, but for "-f" where f is a short option */
		if (longopts && (arg[1] == '-' || (long_only && (arg[2] || !strchr(optstring, arg[1]))))) {
			int r = long_option(argc, argv, optstring, longopts, longind, long_only, print_errors, arg[1] == '-' ? "--" : "-");

			if (r != -1)
				return r;
		}
		next_char = 1;
		element = arg;
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

/* Each call ends with optopt the last option in error, as glibc's. */
static int scan_and_tell(int argc, char *const argv[], const char *optstring, const struct option *longopts, int *longind, bool long_only)
{
	int c = scan(argc, argv, optstring, longopts, longind, long_only);

	optopt = error_option;
	return c;
}

int getopt(int argc, char *const argv[], const char *optstring)
{
	return scan_and_tell(argc, argv, optstring, NULL, NULL, false);
}

int getopt_long(int argc, char *const argv[], const char *optstring, const struct option *longopts, int *longind)
{
	return scan_and_tell(argc, argv, optstring, longopts, longind, false);
}

int getopt_long_only(int argc, char *const argv[], const char *optstring, const struct option *longopts, int *longind)
{
	return scan_and_tell(argc, argv, optstring, longopts, longind, true);
}

/* What <unistd.h> calls getopt under strict POSIX (no _GNU_SOURCE): POSIX mode is the only one here. */
int __posix_getopt(int argc, char *const argv[], const char *optstring);

int __posix_getopt(int argc, char *const argv[], const char *optstring)
{
	return getopt(argc, argv, optstring);
}

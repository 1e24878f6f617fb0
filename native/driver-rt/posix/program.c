/* A program: a personality driver that defines main (docs/drivers.md,
 * "Programs"). Once its start (constructors, module_init) has returned, at
 * load and at each restart, the kernel starts one driver thread (a kernel
 * thread, as pthread_create's: native/posix/program.cc) that crosses into the
 * domain and runs main(argc, argv, envp) with the load option argv and env,
 * laid out in the driver's heap; what main returns is exit()'s status, as
 * glibc's start does. A library-style driver has no main: nothing starts. */
#include "posix.h"

/* Weak: 0 in a driver without main. Hidden, so never a host symbol (the
 * host's own main), which makes the driver's main hidden too: the kernel
 * finds it through nooks_posix_main. The personality's own prototype. */
extern int main(int argc, char **argv, char **envp) __attribute__((weak, visibility("hidden")));

/* Where main is, NULL for a library-style driver: what tells the kernel a program (Driver.program). */
__attribute__((visibility("default"))) int (*const nooks_posix_main)(int, char **, char **) = main;

/* The kernel's strings `which` (nooks_posix_program_strings) as a
 * NULL-terminated vector in the heap; *count of them. NULL if the heap is full. */
static char **vector_of(int which, int *count)
{
	long size = nooks_posix_program_strings(which, NULL, 0);
	char *all = malloc((size_t)size + 1);
	char **v;
	int n = 0;

	if (!all)
		return NULL;
	nooks_posix_program_strings(which, all, (size_t)size);
	for (long i = 0; i < size; i++)
		n += all[i] == '\0';
	v = malloc(((size_t)n + 1) * sizeof(*v));
	if (!v) {
		free(all);
		return NULL;
	}
	for (int i = 0; i < n; i++, all += strlen(all) + 1)
		v[i] = all;
	v[n] = NULL;
	*count = n;
	return v;
}

/* main, then exit with what it returned. */
static void *run_main(void *unused)
{
	int argc, envc;
	char **argv = vector_of(0, &argc), **envp = vector_of(1, &envc);

	(void)unused;
	if (!argv || !envp) {
		fputs("main: no memory for its arguments\n", stderr);
		exit(EXIT_FAILURE);
	}
	exit(main(argc, argv, envp));
}

/* The program's thread, inside the domain: main, counted among its threads,
 * so that a pthread_exit there ends main's thread alone, as glibc's, and the
 * last of its threads to end then ends the program (thread.c). */
__attribute__((visibility("default"))) void nooks_posix_program_run(void)
{
	posix_program_thread_begins();
	posix_thread_body(run_main, NULL);
}

bool posix_program(void)
{
	return main != NULL;
}

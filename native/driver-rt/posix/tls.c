/* The driver's `__thread` variables, per driver thread, inside its domain
 * (<nooks/tls.h>). A -fPIC driver reaches them through __tls_get_addr (the
 * general- and local-dynamic models); this hidden one is what its calls bind
 * to at link time, never glibc's, whose blocks live in the host's threads.
 * Each thread's block is at the top of its domain stack, below the deferred
 * calls' page, where the loader keeps room for it; it is filled from the
 * image on the thread's first access, marked in the thread's area, which the
 * kernel zeroes for a new thread and at a restart: the variables start from
 * their initial values exactly then. */
#include <nooks/tls.h>

#include "posix.h"

/* glibc's argument: what the driver's DTPMOD64 and DTPOFF64 relocations (or
 * the link, for its own variables) put in its GOT. */
typedef struct {
	unsigned long module;
	unsigned long offset;
} tls_index;

/* Written by the loader before the driver runs (kept with its data, so a
 * restart finds it again): in .data, which a restart copies back, never
 * .bss, which it zeroes. */
__attribute__((visibility("default"), section(".data"))) struct nooks_tls_image nooks_posix_tls;

void *__tls_get_addr(tls_index *ti);

/* The thread's first access: its block from the image, .tbss zeroed (the
 * stack's memory may hold a block from before a restart). GCC calls
 * __tls_get_addr without aligning the stack: this frame aligns its own. */
__attribute__((noinline, force_align_arg_pointer)) static char *first_access(struct posix_thread *self)
{
	char *block = nooks_tls_block(self, nooks_posix_tls.reserved);

	memcpy(block, (const void *)(uintptr_t)nooks_posix_tls.init, nooks_posix_tls.init_bytes);
	memset(block + nooks_posix_tls.init_bytes, 0, nooks_posix_tls.bytes - nooks_posix_tls.init_bytes);
	self->tls_block = block;
	return block;
}

/* A tls_index that is none of the driver's variables: a bad call, never another module's memory. */
__attribute__((noinline, noreturn, force_align_arg_pointer)) static void bad_index(const tls_index *ti)
{
	char message[200];

	snprintf(message, sizeof(message), "__tls_get_addr: module %lu, offset %lu is not in the driver's thread-local storage "
		 "(module %lu, %lu bytes)", ti->module, ti->offset, (unsigned long)nooks_posix_tls.module,
		 (unsigned long)nooks_posix_tls.bytes);
	posix_abort(message);
}

/* After the first access: a load of the thread's area, a compare, an add. */
void *__tls_get_addr(tls_index *ti)
{
	struct posix_thread *self = posix_thread_self();
	char *block = self->tls_block;

	if (__builtin_expect(ti->module != nooks_posix_tls.module || ti->offset >= nooks_posix_tls.bytes, 0))
		bad_index(ti);
	if (__builtin_expect(!block, 0))
		block = first_access(self);
	return block + ti->offset;
}

/*
 * A POSIX driver's thread-local storage (`__thread`, `_Thread_local`: its
 * PT_TLS segment), per driver thread and inside the driver's domain, never
 * in the host's threads. The loader describes the segment in the driver's
 * nooks_posix_tls (native/driver-rt/posix/tls.c) and keeps `reserved` bytes
 * at the top of each of the driver's stacks, just below the deferred calls'
 * page (<nooks/batch.h>), for the thread's block: the personality's
 * __tls_get_addr fills it from the image on the thread's first access.
 * Shared by the loader and the personality: one layout.
 */
#ifndef NOOKS_TLS_H
#define NOOKS_TLS_H

#include <stdint.h>

#include <nooks/batch.h>
#include <nooks/thread_area.h>

/* The largest block (p_memsz rounded up to p_align) and alignment a driver
 * may have: the block is taken from each of its 256 KiB stacks, whose
 * deferred calls' page starts on a multiple of the area's size. */
#define NOOKS_TLS_MAX_BYTES (64 * 1024)
#define NOOKS_TLS_MAX_ALIGN NOOKS_THREAD_AREA_BYTES

struct nooks_tls_image {
	uint64_t module;	/* glibc's module id for the driver: what its DTPMOD64 relocations hold */
	uint64_t init;		/* .tdata: the initial values (p_filesz bytes at the loaded p_vaddr) */
	uint64_t init_bytes;
	uint64_t bytes;		/* p_memsz: .tdata, then .tbss (zeros) */
	uint64_t reserved;	/* p_memsz rounded up to p_align: the block, below the deferred calls' page */
};

/* The thread's block in the driver, given its area. */
static inline char *nooks_tls_block(void *area, uint64_t reserved)
{
	return (char *)area - NOOKS_BATCH_BYTES - reserved;
}

#endif

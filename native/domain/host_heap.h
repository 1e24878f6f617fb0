// The host-object heap: kernel objects a driver may read but never write.
// Under pkey it is ordinary key-0 memory (read-only inside every domain);
// under mprotect it is made read-only while any driver runs; it is shared
// memory, which the drivers' host processes (isolation 'process') map read-only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nooks {

void *host_heap_alloc(size_t size);
void host_heap_free(void *p);
// false if the heap is not mapped (nothing to protect: no mprotect call made).
bool host_heap_protect(bool read_only);
// Whether host_heap_protect made it read-only (under mprotect: driver code runs now).
bool host_heap_read_only();
// Maps the heap (at boot, before any driver's host process is forked).
bool host_heap_init();
// The heap's whole mapping.
void host_heap_range(uintptr_t *lo, uintptr_t *hi);

}  // namespace nooks

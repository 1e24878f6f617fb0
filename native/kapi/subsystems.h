// Kernel services behind the driver API (native/kapi/*.cc), as the rest of
// the kernel sees them: lifecycle, release of tracked objects, device hooks.
#pragma once
#include <nooks/kapi.h>

#include <cstdint>

#include "../domain/domain.h"
#include "objects.h"

namespace nooks {

constexpr uint64_t kDmaBusBase = 1ull << 32;
constexpr int kDmaWindowShift = 28;  // 256 MiB of bus addresses per domain
dma_addr_t dma_bus_address(Domain *d, const void *cpu);
// The CPU address behind `n` bytes at bus address `bus` of d's window, or nullptr.
void *dma_cpu_address(Domain *d, dma_addr_t bus, size_t n);

// Kernel threads (timers, work) start with the kernel and stop with it.
void timers_start();
void timers_stop();
void workers_start();
void workers_stop();

// Release of tracked objects at recovery or unload (no thread is inside the domain then).
void timer_release(Domain *d, uintptr_t addr);
void work_release(Domain *d, uintptr_t addr);
void irq_release(Domain *d, unsigned irq);

// Interrupt lines: a device (or a test) raises one; the handler runs on the line's thread.
constexpr int kIrqLines = 64;
bool irq_raise(unsigned line);
void irq_mask_domain(Domain *d, bool masked);

uint64_t jiffies_now();

}  // namespace nooks

// The bodies of dma_alloc_coherent/dma_free_coherent (native/kapi/memory.cc):
// classes call them on a driver's behalf, inside its kernel call (calling_domain()).
extern "C" void *kapi_dma_alloc_coherent(struct device *, size_t size, dma_addr_t *handle, gfp_t);
extern "C" void kapi_dma_free_coherent(struct device *, size_t, void *cpu, dma_addr_t);

namespace nooks {

}  // namespace nooks

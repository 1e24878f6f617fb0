// Kernel services behind the driver API (native/kapi/*.cc), as the rest of
// the kernel sees them: lifecycle, release of tracked objects, device hooks.
#pragma once
#include <node_api.h>
#include <nooks/kapi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "../domain/domain.h"
#include "objects.h"

namespace nooks {

constexpr uint64_t kDmaBusBase = 1ull << 32;
constexpr int kDmaWindowShift = 28;  // 256 MiB of bus addresses per domain
// The first bus address of d's window (where VFIO maps its DMA memory in the IOMMU).
uint64_t dma_window(Domain *d);
dma_addr_t dma_bus_address(Domain *d, const void *cpu);
// The CPU address behind `n` bytes at bus address `bus` of d's window, or nullptr.
void *dma_cpu_address(Domain *d, dma_addr_t bus, size_t n);
// A block of d's arena `a`, tracked as the driver's object (type, data,
// label: the call that asked); nullptr, logged, when the domain's limit is reached.
void *domain_alloc(Domain *d, Arena &a, size_t size, size_t align, ObjectType type, uint64_t data, const char *label);
// Frees a block domain_alloc made; false if the driver holds no such block.
bool domain_free_block(Domain *d, Arena &a, uintptr_t p, ObjectType type);
// The longest DMA block that is contiguous for d's devices (dma_alloc_coherent fails past it).
inline size_t dma_contiguous_max(Domain *d) { return d->dma.contiguous_max(); }

// Kernel threads (timers, work) start with the kernel and stop with it.
void timers_start();
void timers_stop();
void workers_start();
void workers_stop();

// Release at recovery or unload (no thread is inside the domain then).
// Timers and work items: all of d's at once, whether d still holds them or
// forgot them with the stack they lay on (a thread's end: domain.cc): each
// waits for its kernel thread to be done with d (a callback on its way into d
// or out of it, or left running), then disarms (unqueues) every one of d's.
// An interrupt line's release frees it and tells its thread to stop, without
// waiting: irq_wait_freed_lines waits for all of d's at once.
void timers_release(Domain *d);
void work_release(Domain *d);
void irq_release(Domain *d, unsigned irq);
// The irq threads of d's freed lines (those its lines' release stopped, those
// of handlers that freed their own line, and those a free_irq stopped waiting
// for when its caller had to leave d): returns once none still uses
// d, or, after one recovery_teardown_wait() for all, leaves running those that
// do (left_running.h); those the teardown's wait for threads to leave d gave
// up on (left behind, inside d still) at once, not waited for again. At
// teardown, after its lines are released.
void irq_wait_freed_lines(Domain *d);
// Interrupt lines: a device (or a test) raises one; the handler runs on the line's thread.
constexpr int kIrqLines = 64;
bool irq_raise(unsigned line);
// A real device's end-of-interrupt on its line (nullptr: none).
void irq_set_ack(unsigned line, std::function<void()> ack);
// A POSIX driver's VFIO interrupt or UIO node (native/posix/vfio_device.cc,
// uio_node.cc): raising the line calls `signal` instead of a handler; nullptr:
// no more. One owner at a time: false (nothing changed) while another has it.
// A real device's line is masked at each interrupt: `driver_unmasks` (UIO,
// VFIO's INTx) leaves it masked until the driver unmasks it (irq_unmask), as
// Linux's uio_pci_generic and vfio-pci do; else (VFIO's MSI, which the driver
// never unmasks) it is unmasked as it is signalled. Attaching one unmasks it.
bool irq_set_signal(unsigned line, const void *owner, std::function<void()> signal, bool driver_unmasks);
// The driver of `owner`'s signal unmasked its interrupt: a real device's line
// ends the interrupt (its ack). Nothing while another owner has the line.
void irq_unmask(unsigned line, const void *owner);
void irq_mask_domain(Domain *d, bool masked);
// A class's work after each run of a driver's interrupt handler (faulted or
// not): on the line's thread, outside the driver (it may cross in again).
// Registered by a static object, as a Nanny is.
struct AfterInterrupt {
  explicit AfterInterrupt(void (*run)(Domain *d));
};
// A class's reset when the kernel shuts down, once its drivers are unloaded
// and the kernel threads stopped: it forgets the devices, their names, counters
// and what its shadow kept, so that a kernel booted next starts afresh. `env`
// (the JS thread's; null while the environment exits) lets go of its JsPump.
// Registered by a static object, as a Nanny is.
struct ClassReset {
  explicit ClassReset(void (*reset)(napi_env env));
};
// shutdown_kernel (native/addon.cc): every class's reset.
void reset_classes(napi_env env);

// True on an interrupt line's thread: kernel calls made there can leave work
// for the AfterInterrupt hooks, which run once the handler returns.
bool on_irq_thread();

uint64_t jiffies_now();
// Sleeps on behalf of d's driver (msleep, the personality's usleep): inside its
// crossing, so it counts against its time budget; ends at once when d fails (wait.h).
void driver_sleep_ns(Domain *d, uint64_t ns);

}  // namespace nooks

// The bodies of dma_alloc_coherent/dma_free_coherent (native/kapi/memory.cc):
// classes call them on a driver's behalf, inside its kernel call (calling_domain()).
extern "C" void *kapi_dma_alloc_coherent(struct device *, size_t size, dma_addr_t *handle, gfp_t);
extern "C" void kapi_dma_free_coherent(struct device *, size_t, void *cpu, dma_addr_t);

namespace nooks {

}  // namespace nooks

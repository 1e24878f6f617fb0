// Protection domains: a driver's memory (heap, DMA, stacks, writable
// segments) and its state. What an isolation mode keeps per domain (a
// protection key, a view, a host process) its backend keeps (native/isolation/).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include <shared_enums.h>  // DomainState (lib/wrappers/enums.ts)
#include <nooks/thread_area.h>

#include "../isolation/backend.h"
#include "../kapi/objects.h"
#include "../loader/symtab.h"
#include "arena.h"

namespace nooks {



struct Domain;
struct ThreadCtx;

// One per (thread, domain): the thread's stack inside the domain.
// Field order is fixed by native/xpc/layout.h.
struct DomainThread {
  uintptr_t sp;        // DT_SP: where the next entry starts on this stack
  uint32_t pkru;       // DT_PKRU: PKRU while running this domain's code
  uint32_t depth;      // entries of this thread into the domain now active
  uint64_t entries;    // entries of this thread into the domain so far (introspection)
  Domain *domain;
  ThreadCtx *thread;
  uintptr_t stack_lo;  // lowest usable byte; a guard page lies below
  uintptr_t stack_hi;  // top of the stack's memory
  struct nooks_batch *batch;  // deferred calls: the page below the thread's area (<nooks/thread_area.h>), at the top of the stack
  int slot;            // which of the domain's stacks (and, isolation 'process', channels)
  // Under the domain's threads_lock (borrowed_stack.h): kernel calls of other threads that borrowed this stack,
  // and whether its thread has ended (its stack then closes at the last one's return).
  uint32_t borrowers = 0;
  bool ended = false;

  // The thread's area at the top of its stack (<nooks/thread_area.h>): errno, the part word...
  uintptr_t area() const { return stack_hi - NOOKS_THREAD_AREA_BYTES; }
};

// A range of the driver's memory: which the driver may write, read, or execute.
struct Range {
  uintptr_t lo, hi;
  bool contains(uintptr_t p, size_t n) const { return p >= lo && n <= hi - lo && p - lo <= hi - lo - n; }
};

// The page an address lies in, and the next page boundary from it: dlopen,
// mprotect and the loader's scans work in whole pages.
inline uintptr_t page_down(uintptr_t a) { return a & ~(uintptr_t)(getpagesize() - 1); }
inline uintptr_t page_up(uintptr_t a) { return page_down(a + getpagesize() - 1); }

// A writable segment of the driver's image and the copy taken at load, from
// which recovery resets it. Only the bytes that come from the file (.data)
// are copied: the pages above them (.bss) are zero at load and reset by
// giving them back, so a large .bss is never touched, copied or mapped in
// (under mprotect every crossing re-protects whatever is mapped in).
struct Segment {
  Range range;
  std::vector<uint8_t> clean;  // the clean bytes of [range.lo, range.lo + clean.size()); zeros above
  // Back to what it was at load; the caller has access to the domain's memory.
  void reset() const;
};

// An injected fault in the driver's text (native/loader/text_patch.h): the
// bytes it replaced, and whether recovery puts them back.
struct TextPatch {
  uintptr_t addr;
  std::vector<uint8_t> original;
  bool transient;
};

// A load parameter the driver declares (module_param in nooks/kapi.h) and
// the value the host gave it at load, applied again at every restart.
struct ModuleParam {
  std::string name;
  uint32_t type;        // NOOKS_PARAM_*
  uintptr_t var;        // the driver's variable
  bool given = false;   // false: the variable keeps its initializer
  int64_t value = 0;    // int, long, bool
  std::string text;     // charp
};

// One VFIO_IOMMU_MAP_DMA of a POSIX driver: `size` bytes of its DMA memory at `cpu`.
struct IovaMap {
  uint64_t size;
  uintptr_t cpu;
};

constexpr int kMaxDomains = 64;
constexpr int kMaxDomainThreads = 128;  // threads that may be inside one domain at once

struct Domain {
  int id = -1;
  uint64_t serial = 0;  // unique to this load: tells it from earlier drivers in the same slot
  std::string name;
  std::string path;
  std::atomic<DomainState> state{DomainState::loading};
  std::atomic<uint64_t> failure_gen{0};  // counts failures: faults of one failure share it

  std::mutex mem_lock;     // guards heap and dma
  Arena heap;              // kmalloc/kzalloc
  Arena dma;               // dma_alloc_coherent
  std::vector<Segment> segments;  // writable parts of the image
  std::vector<Range> readable;    // the whole image (for strings and constant data)
  std::vector<Range> text;        // executable parts (callbacks must point here)
  std::mutex patches_lock;
  std::vector<TextPatch> patches;  // injected faults, oldest first
  std::vector<ModuleParam> params;  // declared and given at load (native/loader/params.h)
  std::map<std::string, std::string> env;  // the load option env: the POSIX personality's getenv
  std::vector<std::string> argv;  // the load option argv: what a program's main is given (nooks_posix_program_strings)
  std::vector<std::string> devices;        // the load option devices: PCI addresses it holds (native/dev/bus.h)
  std::shared_ptr<struct PosixFiles> posix;  // the POSIX personality's files and mappings (native/posix/fd_table.h)
  // BARs of real devices mapped for the driver (pci_iomap): under mprotect
  // they open and close with the domain's other memory.
  std::mutex mmio_lock;
  std::vector<Range> mmio;
  // UIO: the physical address of each hugepage of the DMA arena, which are
  // then the bus addresses (empty: bus addresses are the domain's window).
  std::vector<uint64_t> dma_phys;
  // A POSIX driver's VFIO IOMMU (native/posix/vfio_iommu.cc): iova -> its
  // own DMA memory, which emulated devices' DMA consults before the window
  // (iommu_maps 0: no lock taken).
  std::mutex iommu_lock;
  std::map<uint64_t, IovaMap> iommu;
  std::atomic<size_t> iommu_maps{0};

  void *handle = nullptr;  // dlopen handle
  FunctionTable functions;  // of the image loaded, for fault messages (the file may be another build by then)
  int (*init)() = nullptr;
  void (*exit)() = nullptr;
  const void *batch_runner = nullptr;  // nooks_batch_run in the driver's runtime
  uintptr_t program_main = 0;  // a program's main (native/posix/program.h), read at load; 0: a library-style driver

  std::atomic<bool> shadowed{false};  // its class objects are parked at a failure (native/shadow)
  std::atomic<bool> unloading{false};  // its unload began: a teardown from now on is the unload's, not a failure's
  std::atomic<uint32_t> host_limits_logged{0};  // a bit per HostLimit it reached (native/kapi/host_limits.h)
  std::atomic<uint64_t> stall_ms{5000};  // the class nannies' deadline: a request kept longer is a failure
  uint64_t time_budget_ms = 2000;
  size_t mem_limit = 64u << 20;
  size_t tls_reserved = 0;  // at the top of each stack, below the batch page: the thread's __thread block (<nooks/tls.h>)

  Objects objects;         // what the driver holds; released at recovery
  std::mutex threads_lock;
  std::vector<DomainThread *> threads;
  // The heap, the DMA arena and every stack in one reservation, guard pages
  // between them (under isolation 'mprotect' one call closes or opens it all;
  // shared under isolation 'process', for the driver's host process).
  Range memory{0, 0};
  // Its stacks: kMaxDomainThreads slots of guard + stack. slot_used is set
  // under threads_lock once the slot's stack is as the driver may touch it
  // (open_stack; under isolation 'mprotect' also under its lock, so a closed
  // domain's new stack stays inaccessible until the domain opens), cleared
  // once it is not (close_stack, under that lock too). Isolation 'mprotect'
  // reads it without threads_lock (in a fault handler) but under its own
  // lock, so it never sees a slot used whose stack is being released.
  uintptr_t stacks = 0;
  std::atomic<bool> slot_used[kMaxDomainThreads] = {};

  // Its loader, and each thread left running inside it at a teardown (a
  // kernel call that did not return: native/posix/threads.cc), which may
  // still come back to it: it is freed when the last lets go (domain_destroy).
  std::atomic<int> keepers{1};

  std::mutex recovery_lock;
  uint64_t torn_down_gen = 0;  // the last failure torn down (native/recovery/teardown.cc)
  bool forgotten = false;      // about to be destroyed: the recovery thread takes no more of its faults (its lock)
  uint64_t faults = 0, recoveries = 0;
  std::atomic<uint64_t> interrupts{0};  // its interrupt handler's runs (native/kapi/irq.cc), for introspection
  std::atomic<uint64_t> timeouts{0};    // the watchdog's requests to its threads to leave for the time budget (native/trap/trap.cc), for introspection
  // Test hook (holdNewThreads, test/entry-window.test.ts): the driver's new
  // threads wait at their first crossing (domain.cc, hold_for_test).
  std::atomic<bool> hold_new_threads{false};
  // Test hook (holdNewIrqThreads, test/irq-unstarted.test.ts): its new irq
  // lines' threads wait before their first line (irq.cc, hold_for_test).
  std::atomic<bool> hold_new_irq_threads{false};
  // Test hook (holdSignalHandlers, test/program-signals.test.ts): its
  // signals' handler threads run one at a time, in the order started (signals.cc, hold_for_test).
  std::atomic<bool> hold_signal_handlers{false};
  // Test hook (stallNextWait, test/posix-left-running.test.ts): the driver's
  // next wait in a kernel call never ends until the test lets it go
  // (native/kapi/wait.cc, stall_for_test); `busy`: nor counts as a wait.
  enum class Stall { none, wait, busy };
  std::atomic<Stall> stall_next_wait{Stall::none};
  // Test hook (holdTeardown, test/net-open-recovery.test.ts): its next teardown waits, before it releases the
  // driver's objects or once it has, until the test lets it go (native/recovery/teardown.cc, hold_for_test).
  enum class TeardownHold { none, before_release, after_release };
  std::atomic<TeardownHold> hold_teardown{TeardownHold::none};

  // The driver may write [p, p+n): its heap, DMA, stacks, or writable segments.
  bool writable(uintptr_t p, size_t n) const;
  // As writable, but memory that outlives every thread: not a stack, which goes when its thread ends.
  bool lasting(uintptr_t p, size_t n) const;
  bool readable_by_driver(uintptr_t p, size_t n) const;
  // In the driver's image (its code and constant data too).
  bool in_image(uintptr_t p, size_t n) const;
  bool in_text(uintptr_t p) const;
  // A range, readable and writable, now belongs to the domain: its backend
  // marks it so (pkey: the domain's key). false with errno set if it cannot.
  bool tag(void *p, size_t n) const;
};

// Every domain, by id (slots are reused after unload). A thread that reads a
// slot outside any crossing into its domain, and is not the thread that
// unloads drivers, holds what it found by a DomainUse; so does that thread
// where it may find a domain unloaded and kept (domain_keep), which the
// thread keeping it frees when it lets go.
extern std::atomic<Domain *> g_domains[kMaxDomains];
extern std::mutex g_domains_lock;

// The domain in slot `id` (nullptr if none), kept allocated while this lives:
// domain_destroy waits for it (slot_use.h). Given a load's serial, nullptr
// also when the slot now holds a later load. Short-lived: never held while
// waiting for the thread that unloads drivers (the JS thread).
class DomainUse {
 public:
  explicit DomainUse(int id, uint64_t serial = 0);
  ~DomainUse();
  DomainUse(const DomainUse &) = delete;
  DomainUse &operator=(const DomainUse &) = delete;
  Domain *get() const { return d_; }

 private:
  int id_;
  Domain *d_ = nullptr;
};

// Allocate a domain slot (its backend sets it up: domain_setup); throws std::runtime_error with a clear message.
// `static_bytes` of the image's writable segments count toward `mem_limit`: the heap gets the rest.
// `dma_bytes` of DMA memory (0: 16 MiB, or mem_limit if smaller).
Domain *domain_create(const std::string &name, const std::string &path, uint64_t budget_ms, size_t mem_limit, size_t static_bytes,
                      size_t dma_bytes);
// Lets go of d: its loader (it is unloaded or never loaded), or a keeper
// (domain_keep). Once the last has, frees d and all it holds, its image
// (d->handle), memory and protection key included, once no DomainUse holds it.
void domain_destroy(Domain *d);
// Keeps d, its slot, memory and key, past its loader's domain_destroy, until a domain_destroy of the caller's.
void domain_keep(Domain *d);
// The DomainThread of the calling thread for d (creates its stack on first use).
DomainThread *domain_thread(Domain *d);
// A thread exits: forget its stack in d.
void domain_thread_release(DomainThread *dt);
// dt's stack, its thread ended and no kernel call borrowing it (borrowed_stack.h): emptied, made inaccessible, its
// slot free for the next thread, dt deleted. Under the domain's threads_lock, with DomainMemoryAccess held.
void domain_stack_close(DomainThread *dt);
// The calling thread is done with d (a driver's own thread that ended): its stack there goes now, not at its exit.
void domain_thread_forget(Domain *d);
// A restart: every thread's area in d (<nooks/thread_area.h>) zero again, as
// the driver's data is reset; the caller has access to the domain's memory.
void domain_reset_thread_areas(Domain *d);
// Bytes of inaccessible guard below each domain stack (overflow lands there).
uintptr_t guard_size();
// Bytes of each domain stack.
size_t domain_stack_size();
// The lowest byte of d's stack in slot (its guard lies below).
uintptr_t slot_stack(const Domain *d, int slot);
// The reservation that holds every stack of a domain.
size_t stacks_size();
// Under isolation 'process' the domain's memory is shared with its host process.
inline bool shared_domains() { return g_backend.shares_memory; }

}  // namespace nooks

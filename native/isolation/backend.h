// An isolation backend: how a mode keeps drivers from the kernel's memory
// (and from each other's). Each mode is one folder under native/isolation/
// that fills in this table; the table is picked once, at boot
// (isolation_select), and the rest of the kernel asks g_backend, never the
// mode. A new mode is a new folder and one line in backend.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include <shared_enums.h>  // Isolation (lib/wrappers/enums.ts)

namespace nooks {

struct Domain;
struct DomainThread;
struct ThreadCtx;
struct EntryFrame;
struct XpcCall;
struct Fault;
enum class EnterResult;

// Steps that do nothing: the defaults of the table below.
namespace backend_nothing {
inline std::string unusable_reason() { return ""; }
inline void thread(ThreadCtx *) {}
inline bool held() { return false; }
inline bool address(uintptr_t) { return false; }
inline void none() {}
inline void domain(Domain *) {}
inline void thread_added(Domain *, DomainThread *) {}
inline void adopt(Domain *, uintptr_t, uintptr_t, uintptr_t, int, const std::string &) {}
inline bool start(Domain *, std::string *) { return true; }
inline bool tag(const Domain *, void *, size_t) { return true; }
inline int no_key(const Domain *) { return -1; }
}  // namespace backend_nothing

// A new stack made readable and writable at once, a released one
// inaccessible at once (every mode but mprotect).
bool stack_writable(Domain *d, void *stack, size_t n);
void stack_unreachable(Domain *d, void *stack, size_t n);

// A backend fills in the first four and what it needs of the rest (by name:
// {.mode = ..., .call = ..., ...}), in this order.
struct IsolationBackend {
  Isolation mode;
  // The crossing: calls c->fn(c->args...) inside d on the calling thread
  // (xpc_call). Each backend's is xpc_cross<its admit, refuse, enter>
  // (native/xpc/crossing.h): its entry inlined in the common bookkeeping.
  EnterResult (*call)(Domain *d, XpcCall *c, Fault *fault);
  const void *upcall;   // where every kernel-call stub jumps (gen/kapi_stubs.S), r11d = the call's index
  const void *landing;  // where an abandoned crossing resumes, rbx = its EntryFrame (native/trap, xpc_leave_with)

  // What it offers.
  bool contains_faults = true;         // a driver's fault fails its domain, and kernel calls are checked (false: 'none')
  bool shares_memory = false;          // a domain's memory is MAP_SHARED (with the driver's host process)
  bool flips_page_protection = false;  // crossings change page protection with system calls (bench reports the floor)
  const char *no_real_devices = nullptr;  // why real PCI devices cannot be attached; nullptr if they can
  std::string (*unusable_reason)() = backend_nothing::unusable_reason;  // why it cannot run on this machine; "" when it can
  const char *unusable_code = nullptr;  // the error code boot gives then

  // Kernel code.
  void (*thread_registered)(ThreadCtx *t) = backend_nothing::thread;  // a thread that may enter domains, on first use
  // Kernel code outside any crossing about to touch domain memory
  // (DomainMemoryAccess): true if close_memory must follow.
  bool (*open_memory)() = backend_nothing::held;
  void (*close_memory)() = backend_nothing::none;
  // Whether this thread has domain memory open already, with no wait
  // (mprotect: it holds the lock, inside a crossing or a DomainMemoryAccess).
  bool (*holds_memory)() = backend_nothing::held;
  // A kernel call about to wait or yield lets other threads run driver code
  // meanwhile (UnlockedWait, UnlockedYield): true if resume_after_wait must follow.
  bool (*pause_for_wait)() = backend_nothing::held;
  void (*resume_after_wait)() = backend_nothing::none;
  // Kernel code (not a driver's) faulted on addr: true if the backend made
  // it accessible, and the access may run again. Called in the fault
  // handler: async-signal-safe.
  bool (*open_on_fault)(uintptr_t addr) = backend_nothing::address;

  // Domains and their threads. What a backend keeps per domain (a key, a
  // view, a host process) it keeps itself, by domain id: Domain has no field of any mode's.
  // Before the domain's memory is mapped (a key, channels); throws std::runtime_error.
  void (*domain_setup)(Domain *d) = backend_nothing::domain;
  // Last, after its memory is unmapped (also when domain_setup or the mapping failed).
  void (*domain_teardown)(Domain *d) = backend_nothing::domain;
  // g_domains changed (a domain created or destroyed), under g_domains_lock.
  void (*domains_changed)() = backend_nothing::none;
  // A new stack [stack, stack+n) of d, inaccessible until now: as d's driver
  // may touch it (DomainMemoryAccess held); false with errno set if it cannot be.
  bool (*open_stack)(Domain *d, void *stack, size_t n) = stack_writable;
  // A released stack of d, its slot still marked used: inaccessible (DomainMemoryAccess held).
  void (*close_stack)(Domain *d, void *stack, size_t n) = stack_unreachable;
  void (*thread_added)(Domain *d, DomainThread *dt) = backend_nothing::thread_added;  // dt's stack in d is ready
  // [p, p+n), readable and writable, now belongs to d (Domain::tag: its heap,
  // DMA, stacks, writable segments); false with errno set if it cannot be.
  bool (*tag_memory)(const Domain *d, void *p, size_t n) = backend_nothing::tag;
  // The protection key d's memory carries (introspection: domains()); -1 for none.
  int (*protection_key)(const Domain *d) = backend_nothing::no_key;
  // The loader placed pages [lo, hi) of the driver's image, protected `prot`
  // ([lo, file_hi) from the file, zeros above), in d; throws LoadError.
  void (*adopt_image)(Domain *d, uintptr_t lo, uintptr_t hi, uintptr_t file_hi, int prot, const std::string &path) = backend_nothing::adopt;

  // Restart: driver code runs only between start and stop.
  bool (*start)(Domain *d, std::string *why) = backend_nothing::start;  // after load or reset, before the driver's init; false + why
  void (*stop)(Domain *d) = backend_nothing::domain;                    // at a failure's teardown and at unload; idempotent
};

// The backend of the booted kernel (the 'none' backend before boot). A copy,
// so that a crossing loads its entry with one instruction.
extern IsolationBackend g_backend;

// The one place that maps a mode to its backend: nullptr if there is none.
const IsolationBackend *isolation_backend(const std::string &mode);
// At boot, before any thread enters a domain.
void isolation_select(const IsolationBackend &b);

}  // namespace nooks

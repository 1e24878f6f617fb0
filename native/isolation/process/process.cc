#include "process.h"

#include <errno.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "../../loader/loader.h"
#include "../../xpc/crossing.h"
#include "driver_host.h"

extern "C" {
int nooks_xpc_enter_local(nooks::EntryFrame *f, nooks::XpcCall *c);
void nooks_xpc_landing_plain();
void nooks_upcall_process();
}

namespace nooks {
namespace {

// The crossing runs on this stack, as kernel code, so a fault found while
// serving it unwinds to this entry like any other.
int enter(ThreadCtx *, DomainThread *dt, EntryFrame *f, XpcCall *c, bool) {
  XpcCall cross{(const void *)driver_host_cross, {(uint64_t)dt->domain, (uint64_t)c, (uint64_t)dt}, 0};
  return nooks_xpc_enter_local(f, &cross);
}

void setup(Domain *d) {
  if (!driver_host_create(d)) throw std::runtime_error(std::string("cannot map the driver host's channels: ") + strerror(errno));
}

// The pages [lo, hi) become shared memory with the same contents (those of
// [lo, file_hi): zeros above) and protection, so that the driver's host
// process, forked later, shares them (its writes; and the kernel's patches of
// the text).
void share_pages(Domain *, uintptr_t lo, uintptr_t hi, uintptr_t file_hi, int prot, const std::string &path) {
  std::vector<uint8_t> copy((const uint8_t *)lo, (const uint8_t *)file_hi);
  if (mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
    throw LoadError("ENOMEM", path + ": cannot share the driver's image with its host process: " + strerror(errno));
  if (!copy.empty()) memcpy((void *)lo, copy.data(), copy.size());
  mprotect((void *)lo, hi - lo, prot);
}

}  // namespace

const IsolationBackend kProcessBackend = {
    .mode = Isolation::process,
    .call = xpc_cross<nullptr, nullptr, enter>,
    // Driver code runs only in its host process, which forwards its kernel calls.
    .upcall = (const void *)nooks_upcall_process,
    .landing = (const void *)nooks_xpc_landing_plain,
    .shares_memory = true,
    // A device's BARs would have to be mapped into the driver's host process too.
    .no_real_devices = "real PCI devices are not supported under isolation 'process' (emulated devices only); use 'pkey' or 'mprotect'",
    .domain_setup = setup,
    .domain_teardown = driver_host_destroy,
    .thread_added = driver_host_thread_added,
    .adopt_image = share_pages,
    .start = driver_host_start,
    .stop = driver_host_stop,
};

}  // namespace nooks

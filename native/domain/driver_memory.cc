#include "driver_memory.h"

#include <cstdio>
#include <cstring>
#include <mutex>

#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../xpc/xpc.h"

namespace nooks {

namespace {

// Recovery holds d->recovery_lock while it releases the driver's memory: a
// request made under it sees the blocks either all held or all released.
std::unique_lock<std::mutex> running(Domain *d) {
  std::unique_lock<std::mutex> g(d->recovery_lock);
  DomainState s = d->state.load();
  if (s != DomainState::running)
    throw DriverMemoryError("EUNAVAILABLE", d->name + " is " + state_name(s) + ": its memory is not accessible");
  return g;
}

// The heap or DMA block that holds [p, p+n), or an EFAULT naming the range.
void check_held(Domain *d, uintptr_t p, size_t n, const char *what) {
  if (d->objects.find_containing(ObjectType::memory, p, n) || d->objects.find_containing(ObjectType::dma, p, n)) return;
  throw DriverMemoryError("EFAULT", d->name + ": " + what + " of " + std::to_string(n) + " bytes at " + hex(p) +
                                        ": not inside a block the driver holds (driver.alloc, kmalloc or DMA; "
                                        "freed blocks and every block before a recovery are gone)");
}

}  // namespace

void *host_block_alloc(Domain *d, size_t size, HostBlock who, const char *label) {
  void *p = domain_alloc(d, d->heap, size, 16, ObjectType::memory, (uint64_t)who, label);
  if (p) {
    DomainMemoryAccess access;
    memset(p, 0, size);
  }
  return p;
}

uintptr_t driver_alloc(Domain *d, size_t size) {
  if (size == 0) throw DriverMemoryError("EINVAL", d->name + ": driver.alloc(0): the size must be at least 1 byte");
  auto g = running(d);
  void *p = host_block_alloc(d, size, HostBlock::js, "driver.alloc");
  if (!p)
    throw DriverMemoryError("ENOMEM", d->name + ": driver.alloc(" + std::to_string(size) + "): the domain's memory limit (" +
                                          std::to_string(d->mem_limit) + " bytes) is reached");
  return (uintptr_t)p;
}

void driver_free(Domain *d, uintptr_t p) {
  auto g = running(d);
  Object o;
  if (!d->objects.find(ObjectType::memory, p, &o) || o.data != (uint64_t)HostBlock::js ||
      !domain_free_block(d, d->heap, p, ObjectType::memory))
    throw DriverMemoryError("EFAULT", d->name + ": driver.free(" + hex(p) +
                                          "): not a block from driver.alloc that the driver holds (freed already, "
                                          "freed by the driver, or released at a recovery)");
}

void driver_write(Domain *d, uintptr_t p, const uint8_t *src, size_t n) {
  auto g = running(d);
  check_held(d, p, n, "driver.write");
  DomainMemoryAccess access;
  memcpy((void *)p, src, n);
}

std::vector<uint8_t> driver_read(Domain *d, uintptr_t p, size_t n) {
  auto g = running(d);
  check_held(d, p, n, "driver.read");
  DomainMemoryAccess access;
  return std::vector<uint8_t>((const uint8_t *)p, (const uint8_t *)p + n);
}

}  // namespace nooks

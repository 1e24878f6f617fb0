// Memory the host places in a driver's domain for it: blocks that JavaScript
// allocates, reads and writes (driver.alloc & co.) to pass buffers and strings
// to exported functions, and the strings of load parameters. They are blocks
// of the domain's heap, tracked as the driver's objects like kmalloc's, so
// the driver may use (and kfree) them and recovery releases them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain.h"

namespace nooks {

// A request refused; `code` for programs: EINVAL (a zero size), ENOMEM (the
// domain's memory limit), EFAULT (a range outside every block the driver
// holds; a free of a block JavaScript did not allocate), EUNAVAILABLE (the
// driver is not running: failed, recovering, disabled).
struct DriverMemoryError : std::runtime_error {
  std::string code;
  DriverMemoryError(std::string c, const std::string &msg) : std::runtime_error(msg), code(std::move(c)) {}
};

// Who asked for a host block (the data of its memory object).
enum class HostBlock : uint64_t { js = 1, param = 2 };

// A zeroed heap block of `size` bytes tracked as the driver's (label: who
// asked); nullptr when the domain's memory limit is reached. For kernel code
// that owns the domain (the loader, recovery): no state check.
void *host_block_alloc(Domain *d, size_t size, HostBlock who, const char *label);

// JavaScript's requests on a running driver; each throws DriverMemoryError.
uintptr_t driver_alloc(Domain *d, size_t size);
// Only a block driver_alloc made that the driver still holds.
void driver_free(Domain *d, uintptr_t p);
// [p, p+n) must lie inside one heap or DMA block the driver holds now.
void driver_write(Domain *d, uintptr_t p, const uint8_t *src, size_t n);
std::vector<uint8_t> driver_read(Domain *d, uintptr_t p, size_t n);

}  // namespace nooks

// Isolation 'pkey' (Intel protection keys): each domain's memory carries a
// key of its own; a crossing is one WRPKRU each way, no system call. Inside a
// domain, kernel memory (key 0) is read-only and every other domain's key
// inaccessible; kernel code opens every key.
#pragma once
#include <cstdint>
#include <string>

#include "../backend.h"

namespace nooks {

extern const IsolationBackend kPkeyBackend;

bool cpu_has_pku();
// Why isolation 'pkey' cannot run here ("" when it can): the CPU lacks PKU, or
// the kernel is older than 6.12 (it writes signal frames under the faulting
// thread's PKRU, so a fault inside a domain could not be delivered).
std::string pkey_unusable_reason();

}  // namespace nooks

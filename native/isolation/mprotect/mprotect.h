// Isolation 'mprotect': page protection, which is process-wide, so one thread
// at a time runs driver code or touches driver memory (the mprotect lock).
// A crossing changes the protection of the domains' memory with system calls.
#pragma once
#include <cstdint>

#include "../backend.h"

namespace nooks {

extern const IsolationBackend kMprotectBackend;

// mprotect calls made so far (what a crossing costs in system calls).
uint64_t mprotect_calls();

}  // namespace nooks

// Patching a loaded driver's text: the fault injector's mechanism (the
// choice of site and bytes is lib/inject's). A patch is persistent (it stays
// across recoveries, like a bug in the binary) or transient (recovery puts
// the original bytes back before the driver's init runs again).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "../domain/domain.h"

namespace nooks {

// Offset of a byte sequence in [t, t+n) that could let driver code out of its
// domain, or -1: WRPKRU (0f 01 ef) and memory-form XRSTOR (0f ae /5) change
// PKRU; WRFSBASE/WRGSBASE (f3 [rex] 0f ae /2, /3, register form) move the
// thread-context base the crossing reads its frame and PKRU through.
long pkru_sequence_at(const uint8_t *t, size_t n);
// Which instruction the sequence at t (found by pkru_sequence_at) is.
const char *pkru_sequence_name(const uint8_t *t);

// Writes n bytes at `offset` from the driver's load base (a file offset as
// objdump shows it). Refuses, saying why, a patch outside the driver's text
// or one that would create a WRPKRU/XRSTOR sequence.
bool text_patch(Domain *d, uint64_t offset, const uint8_t *bytes, size_t n, bool transient, std::string *why);
// Recovery: puts back the original bytes under every transient patch.
void text_revert_transient(Domain *d);

}  // namespace nooks

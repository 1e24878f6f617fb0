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

// Offset of a WRPKRU (0f 01 ef) or memory-form XRSTOR (0f ae /5) byte
// sequence in [t, t+n), or -1: either could change protection keys.
long pkru_sequence_at(const uint8_t *t, size_t n);

// Writes n bytes at `offset` from the driver's load base (a file offset as
// objdump shows it). Refuses, saying why, a patch outside the driver's text
// or one that would create a WRPKRU/XRSTOR sequence.
bool text_patch(Domain *d, uint64_t offset, const uint8_t *bytes, size_t n, bool transient, std::string *why);
// Recovery: puts back the original bytes under every transient patch.
void text_revert_transient(Domain *d);

}  // namespace nooks

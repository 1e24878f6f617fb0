// Driver threads (threads.cc): kernel threads that cross into a driver once.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "../domain/domain.h"
#include "../xpc/xpc.h"

namespace nooks {

// Starts a kernel thread that makes crossing `c` into d (a thread object of
// d's whose value is `start`, labelled `name` or "thread <handle>"), one of
// a program's threads with its signal mask if `program_mask` says one
// (program_signals.h), and, when that crossing returns without a fault,
// runs `after` outside d with what it returned; `before` runs on it before
// the crossing (a test hook's hold). Its handle (joinable unless
// `detached`), or -EAGAIN when d has as many threads as it may.
long driver_thread_start(Domain *d, XpcCall c, uint64_t start, bool detached, const std::string &name,
                         std::optional<uint64_t> program_mask, std::function<void(uint64_t)> after = nullptr,
                         std::function<void()> before = nullptr);

}  // namespace nooks

// Test hook holdFailureClaim (nooks/testing, test/failure-generation-window.test.ts): a driver's next failure waits
// inside its claim, the domain marked failed and its failure generation not moved on yet (xpc.cc,
// claim_and_count), until another thread that fails the driver too waits for it there, or
// releaseFailureClaim (10 s at most), or the kernel's shutdown (a hold left armed does not hold its unloads). A
// thread that finds the domain failed must read that failure's generation, not the one before: the window, held open.
#pragma once
#include "../domain/domain.h"

namespace nooks {

void hold_next_failure_claim_for_test(const Domain *d);
void release_failure_claim_for_test();

}  // namespace nooks

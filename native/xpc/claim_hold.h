// Test hook holdFailureClaim (nooks/testing, test/failure-generation-window.test.ts): a driver's next failure waits
// inside its claim, the domain marked failed and its failure generation not moved on yet (xpc.cc,
// claim_and_count), until another thread that fails the driver too waits for it there, or
// releaseFailureClaim (10 s at most). The driver's unload (the kernel's shutdown's too) drops a hold left armed: its
// own marking failed does not wait there. A thread that finds the domain failed must read that failure's generation,
// not the one before: the window, held open.
#pragma once
#include "../domain/domain.h"

namespace nooks {

void hold_next_failure_claim_for_test(const Domain *d);
void release_failure_claim_for_test();
void drop_failure_claim_hold_for_test(const Domain *d);  // at d's unload: d's hold, if still armed, no longer

}  // namespace nooks

// Shadow drivers (mechanism; Swift et al., OSDI 2004). A shadowed driver's
// class objects outlive its failures: at recovery a class parks what the
// driver held (a disk's requests in flight go back to the head of its queue,
// the name stays reserved) instead of failing it, answers for the driver
// while it restarts (requests queue), and resumes when the restarted driver
// registers the same device again (resubmitting what was parked). When the
// driver does not come back (the agent gives up, or it is unloaded) the class
// fails what it parked, with the reason. Whether a driver is shadowed is the
// recovery policy's choice (lib/recovery/policy.ts: `shadow`).
#pragma once
#include <string>

#include "../domain/domain.h"

namespace nooks {

// Whether d's class objects are parked, not failed, when d is torn down now.
bool shadow_parks(const Domain *d);

// What a class does when a shadowed driver will not come back: fail what it
// parked for d, saying `why`. A static ShadowGiveUp in the class's own file.
using GiveUpFn = void (*)(Domain *d, const std::string &why);
struct ShadowGiveUp {
  explicit ShadowGiveUp(GiveUpFn fn);
};

// d will not be restarted: d is no longer shadowed, and every class fails what it parked for d.
void shadow_give_up(Domain *d, const std::string &why);

}  // namespace nooks

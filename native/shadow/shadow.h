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
#include "../kapi/objects.h"

namespace nooks {

// Whether d's class objects are parked, not failed, when d is torn down now.
bool shadow_parks(const Domain *d);

// A device class's side of the shadow, for the registrations it tracks as
// objects of one type (a disk, a port, an interface): what the class does
// when their driver goes. Which of them applies is decided here (shadow.cc),
// once for every class; what each does is the class's.
struct ShadowOps {
  // d failed and is shadowed: keep o's device for the restarted driver (its
  // name, what applications queued on it). False: o cannot be kept: dropped instead.
  bool (*park)(Domain *d, const Object &o);
  // d failed and is not shadowed, or is unloaded: o's device goes, and what
  // applications had on it fails.
  void (*drop)(Domain *d, const Object &o);
  // d will not come back (the agent gave up, or it was unloaded): fail what
  // park kept for d, saying `why`.
  void (*give_up)(Domain *d, const std::string &why);
};
// A static ShadowedClass in a class's core: ops become the release of object type t.
struct ShadowedClass {
  ShadowedClass(ObjectType t, const ShadowOps &ops);
};

// d will not be restarted: d is no longer shadowed, and every class fails what it parked for d.
void shadow_give_up(Domain *d, const std::string &why);

}  // namespace nooks

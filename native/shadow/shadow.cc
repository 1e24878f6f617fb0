#include "shadow.h"

#include <mutex>
#include <vector>

namespace nooks {
namespace {
// Filled by static constructors before main, read after: no lock needed.
ShadowOps &ops_of(ObjectType t) {
  static ShadowOps ops[(int)ObjectType::count];
  return ops[(int)t];
}
std::vector<decltype(ShadowOps::give_up)> &give_ups() {
  static std::vector<decltype(ShadowOps::give_up)> fns;
  return fns;
}

// The release of every shadowed class's objects (recovery, unload).
void release(Domain *d, const Object &o) {
  const ShadowOps &ops = ops_of(o.type);
  if (shadow_parks(d) && ops.park(d, o)) return;
  ops.drop(d, o);
}
}  // namespace

ShadowedClass::ShadowedClass(ObjectType t, const ShadowOps &ops) {
  ops_of(t) = ops;
  give_ups().push_back(ops.give_up);
  ObjectRelease(t, release);
}

bool shadow_parks(const Domain *d) { return d->shadowed.load(); }

void shadow_give_up(Domain *d, const std::string &why) {
  d->shadowed.store(false);
  for (auto fn : give_ups()) fn(d, why);
}

}  // namespace nooks

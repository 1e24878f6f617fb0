#include "shadow.h"

#include <mutex>
#include <vector>

namespace nooks {
namespace {
// Filled by static constructors before main, read after: no lock needed.
std::vector<GiveUpFn> &give_ups() {
  static std::vector<GiveUpFn> fns;
  return fns;
}
}  // namespace

ShadowGiveUp::ShadowGiveUp(GiveUpFn fn) { give_ups().push_back(fn); }

bool shadow_parks(const Domain *d) { return d->shadowed.load(); }

void shadow_give_up(Domain *d, const std::string &why) {
  d->shadowed.store(false);
  for (GiveUpFn fn : give_ups()) fn(d, why);
}

}  // namespace nooks

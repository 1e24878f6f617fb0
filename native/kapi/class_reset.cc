// The device classes' resets at shutdown (subsystems.h: ClassReset).
#include <vector>

#include "subsystems.h"

namespace nooks {

namespace {

std::vector<void (*)(napi_env)> &resets() {
  static std::vector<void (*)(napi_env)> r;  // filled by static objects, before main
  return r;
}

}  // namespace

ClassReset::ClassReset(void (*reset)(napi_env env)) { resets().push_back(reset); }

void reset_classes(napi_env env) {
  for (auto reset : resets()) reset(env);
}

}  // namespace nooks

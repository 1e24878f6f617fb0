// How a part of the kernel outside addon.cc (a device class) adds functions
// to the addon's exports: a static AddonExports in its own file.
#pragma once
#include <napi.h>

namespace nooks {

struct AddonExports {
  using Fn = void (*)(Napi::Env env, Napi::Object exports);
  explicit AddonExports(Fn fn);
};

// Throws EBOOTED unless env is the thread that booted the kernel (if it is booted).
void require_owner(Napi::Env env);
// Throws ENOTBOOTED unless the kernel is booted (and by env).
void require_booted(Napi::Env env);

struct Domain;
// The driver a JavaScript domain id names (ENODOMAIN if none; the kernel must be booted, by env).
Domain *domain_of(Napi::Env env, Napi::Value id);
// A driver call argument as its 64-bit register (ERANGE outside -2^63 .. 2^64-1, EINVAL for a fraction).
uint64_t to_u64(Napi::Env env, Napi::Value v);

// Throws a JavaScript Error with a `code` property (as every addon error has).
[[noreturn]] void throw_code(Napi::Env env, const std::string &code, const std::string &msg);

}  // namespace nooks

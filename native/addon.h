// The addon's functions, described once per surface (the core, the bus,
// driver memory, each device class) in lib/wrappers/addon/: the generator
// writes each surface's table (gen/addon/<surface>.inc), which the file that
// defines the functions includes; its static AddonExports adds them to the
// addon's exports, each behind the checks of its arguments (addon_surface.cc).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace nooks {

// What an argument must be (lib/wrappers/addon/describe.ts: Check).
enum class ArgKind : uint8_t { any, number, string, boolean, integer, bytes, function, array, object };
struct ArgCheck {
  ArgKind kind;
  bool optional;  // undefined is admitted too
  bool nullable;  // null is admitted too
};
constexpr int kMaxAddonArgs = 10;

struct AddonFunction {
  const char *name;
  Napi::Value (*fn)(const Napi::CallbackInfo &info);
  int nargs;
  ArgCheck args[kMaxAddonArgs];
};

struct AddonExports {
  template <size_t N>
  explicit AddonExports(const AddonFunction (&fns)[N]) : AddonExports(fns, N) {}
  AddonExports(const AddonFunction *fns, size_t n);
};

// Sets every described function on the addon's exports (Init).
void export_addon_functions(Napi::Env env, Napi::Object exports);

// Throws EBOOTED unless env is the thread that booted the kernel (if it is booted).
void require_owner(Napi::Env env);
// Throws ENOTBOOTED unless the kernel is booted (and by env).
void require_booted(Napi::Env env);

struct Domain;
// The driver a JavaScript domain id names (ENODOMAIN if none; the kernel must be booted, by env).
Domain *domain_of(Napi::Env env, Napi::Value id);
// A name made only when an error needs it: any callable returning a string,
// held by reference for the call it is passed to (unlike a std::function,
// never copied to the heap: to_u64 runs for every argument of every call).
class LazyName {
 public:
  template <class F>
  LazyName(const F &f) : fn_(&f), make_([](const void *fn) { return (*static_cast<const F *>(fn))(); }) {}
  std::string operator()() const { return make_(fn_); }

 private:
  const void *fn_;
  std::string (*make_)(const void *);
};

// A value as a 64-bit register (ERANGE outside -2^63 .. 2^64-1, EINVAL for a fraction); `what` names it
// in those errors ("argument 2 of crashy.add"), made only when one is thrown.
uint64_t to_u64(Napi::Env env, Napi::Value v, LazyName what);

struct Fault;
// A fault of driver `driver` as JavaScript sees it (lib/native.ts NativeFault), described (fault_describe).
Napi::Object fault_object(Napi::Env env, const std::string &driver, const Fault &fault);

// Throws a JavaScript Error with a `code` property (as every addon error has).
[[noreturn]] void throw_code(Napi::Env env, const std::string &code, const std::string &msg);

}  // namespace nooks

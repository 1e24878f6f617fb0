// The N-API surface of the kernel: what lib/kernel.ts calls. Control plane
// only: nothing per packet or per block comes through here.
#include <dlfcn.h>
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdio>

#include "addon.h"
#include "dev/bus.h"
#include "dev/host_pci.h"
#include "domain/host_heap.h"
#include "isolation/mprotect/mprotect.h"
#include "isolation/pkey/pkey.h"
#include "kapi/log.h"
#include "kapi/subsystems.h"
#include "kapi/wait.h"
#include "loader/loader.h"
#include "loader/text_patch.h"
#include "posix/expiry_thread.h"
#include "posix/signals.h"
#include "recovery/left_running.h"
#include "recovery/recovery.h"
#include "shadow/shadow.h"
#include "shadow/taps.h"
#include "trap/host_signals.h"
#include "trap/trap.h"
#include "xpc/batch.h"
#include "xpc/claim_hold.h"
#include "xpc/entry_barrier.h"
#include "xpc/xpc.h"

using namespace nooks;

namespace {

std::atomic<bool> g_booted{false};
// The kernel belongs to the thread (Node environment: main or a worker) that
// booted it; the addon is loaded once per environment but its state is per process.
std::atomic<napi_env> g_boot_env{nullptr};

Napi::ThreadSafeFunction g_fault_tsfn;
// A fault on a kernel thread, on its way to the JavaScript thread.
struct FaultReport {
  int domain;
  uint64_t serial;  // Domain::serial of the driver that failed
  Fault fault;
};
uint64_t *g_host_probe = nullptr;

}  // namespace

void nooks::require_owner(Napi::Env env) {
  if (g_booted && (napi_env)env != g_boot_env)
    throw_code(env, "EBOOTED", "the kernel belongs to the thread that booted it (the main thread or another worker)");
}

void nooks::require_booted(Napi::Env env) {
  if (!g_booted) throw_code(env, "ENOTBOOTED", "the kernel is not booted (Kernel.boot)");
  require_owner(env);
}

Domain *nooks::domain_of(Napi::Env env, Napi::Value v) {
  require_booted(env);
  int id = v.As<Napi::Number>().Int32Value();
  Domain *d = id >= 0 && id < kMaxDomains ? g_domains[id].load() : nullptr;
  if (!d) throw_code(env, "ENODOMAIN", "no driver with domain id " + std::to_string(id));
  return d;
}

Napi::Object nooks::fault_object(Napi::Env env, const std::string &driver, const Fault &fault) {
  Fault f = fault;
  fault_describe(&f);
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", fault_kind_name(f.kind));
  o.Set("message", f.message);
  o.Set("driver", driver);
  o.Set("domain", f.domain);
  o.Set("signal", f.signo);
  o.Set("address", hex(f.addr));
  o.Set("ip", hex(f.ip));
  o.Set("primary", f.primary);
  o.Set("generation", (double)f.generation);
  if (f.kind == FaultKind::exit && !f.signo) o.Set("status", f.exit_status);  // (killed by a signal: its `signal`)
  return o;
}

namespace {

Domain *domain_arg(const Napi::CallbackInfo &info, size_t i = 0) { return domain_of(info.Env(), info[i]); }

// A domain an earlier kernel left (its shutdown frees every other) is kept
// for a thread left running in it, which comes back through its mode's code
// and frees it with its mode's backend: until it has, only that mode boots.
void refuse_other_mode_while_kept(Napi::Env env, const IsolationBackend &backend) {
  std::lock_guard<std::mutex> g(g_domains_lock);  // that thread may free it meanwhile
  for (Domain *d : g_domains) {
    if (!d || backend.mode == g_backend.mode) continue;
    std::string was = isolation_name(g_backend.mode);
    throw_code(env, "EBUSY", "isolation '" + std::string(isolation_name(backend.mode)) + "' cannot boot while driver " + d->name +
                                 ", unloaded by the kernel before under isolation '" + was + "', is kept for " +
                                 left_running_labels(d) + " left running in it (docs/recovery.md, \"A thread left running\"): boot isolation '" + was + "' until that thread ends");
  }
}

Napi::Value Boot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string mode = info[0].As<Napi::String>();
  if (g_booted && (napi_env)env == g_boot_env) throw_code(env, "EBOOTED", "a kernel is already booted in this process; shut it down first");
  require_owner(env);
  const IsolationBackend *backend = isolation_backend(mode);
  if (!backend) throw_code(env, "EINVAL", "unknown isolation mode '" + mode + "' (pkey, mprotect, process, none)");
  refuse_other_mode_while_kept(env, *backend);
  std::string unusable = backend->unusable_reason();
  if (!unusable.empty())
    throw_code(env, backend->unusable_code, "isolation '" + mode + "' is not available: " + unusable +
                                                ". Use isolation 'mprotect', or 'auto' to pick the best available");
  // Drivers' imports resolve to the stubs this addon exports: make them global.
  Dl_info self{};
  if (dladdr((void *)&Boot, &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  // Before any driver's host process is forked: they share it (isolation 'process').
  if (!host_heap_init()) throw_code(env, "ENOMEM", "cannot map the host-object heap");
  isolation_select(*backend);
  entry_barrier_init();
  thread_ctx();
  trap_install();
  if (!g_host_probe) g_host_probe = (uint64_t *)host_heap_alloc(64);
  *g_host_probe = 0x600d600d600d600dull;
  timers_start();
  expiry_thread_start();
  workers_start();
  recovery_thread_start();
  watchdog_start();
  g_booted = true;
  g_boot_env = env;
  return env.Undefined();
}

// env: the JS thread's, or null while its environment exits (no JavaScript then).
void shutdown_kernel(napi_env env) {
  if (!g_booted) return;
  for (int id = 0; id < kMaxDomains; id++) {
    Domain *d;
    {
      // Unloaded, it is kept for a thread left running, which may free it meanwhile: looked at under a use.
      DomainUse use(id);
      d = use.get() && use.get()->state.load() != DomainState::unloaded ? use.get() : nullptr;
    }
    if (d) unload_driver(d);  // not unloaded: nothing but this thread frees it
  }
  bus_clear();
  stop_keeping_handlers_on_altstack();  // an environment's exit without Kernel.shutdown(): its loop closes next
  watchdog_stop();
  recovery_thread_stop();
  workers_stop();
  expiry_thread_stop();
  timers_stop();
  reset_classes(env);  // after the drivers and the kernel threads: nothing touches the classes' state now
  recovery_set_listener(nullptr);
  if (g_fault_tsfn) {
    g_fault_tsfn.Release();
    g_fault_tsfn = Napi::ThreadSafeFunction();
  }
  g_booted = false;
  g_boot_env = nullptr;
}

Napi::Value Shutdown(const Napi::CallbackInfo &info) {
  require_owner(info.Env());
  shutdown_kernel(info.Env());
  return info.Env().Undefined();
}

// { name: value }: the load parameters as given, checked by the loader
// against what the driver declares (native/loader/params.h).
std::vector<ParamArg> param_args(Napi::Env env, Napi::Object given) {
  std::vector<ParamArg> args;
  Napi::Array names = given.GetPropertyNames();
  Napi::Function inspect = env.Global().Get("JSON").As<Napi::Object>().Get("stringify").As<Napi::Function>();
  for (uint32_t i = 0; i < names.Length(); i++) {
    ParamArg a{ParamArg::Kind::other};
    a.name = names.Get(i).ToString();
    Napi::Value v = given.Get(a.name);
    Napi::Value shown = v.IsBigInt() ? v.ToString() : inspect.Call({v});
    a.shown = shown.IsString() ? shown.As<Napi::String>().Utf8Value() : v.ToString().Utf8Value();
    if (v.IsBigInt()) {
      a.kind = ParamArg::Kind::integer;
      a.integer = v.As<Napi::BigInt>().Int64Value(&a.exact);
    } else if (v.IsNumber()) {
      double x = v.As<Napi::Number>().DoubleValue();
      a.kind = ParamArg::Kind::integer;
      // integers that a double holds exactly (|x| <= 2^53: the larger ones may have been rounded)
      a.exact = x >= -9007199254740992.0 && x <= 9007199254740992.0 && x == std::trunc(x);
      a.integer = a.exact ? (int64_t)x : 0;
    } else if (v.IsBoolean()) {
      a.kind = ParamArg::Kind::boolean;
      a.integer = v.As<Napi::Boolean>().Value();
    } else if (v.IsString()) {
      a.kind = ParamArg::Kind::string;
      a.text = v.As<Napi::String>().Utf8Value();
    }
    args.push_back(std::move(a));
  }
  return args;
}

// The params argument of load and checkDriver: undefined (none) or { name: value }.
std::vector<ParamArg> params_arg(Napi::Env env, const std::string &path, Napi::Value v) {
  if (v.IsUndefined()) return {};
  if (!v.IsObject() || v.IsArray())
    throw_code(env, "EPARAM", path + ": params must be an object { name: value }, got " + v.ToString().Utf8Value());
  return param_args(env, v.As<Napi::Object>());
}

// checkDriver(path, params): see check_driver_file.
Napi::Value CheckDriver(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::vector<ParamArg> params = params_arg(env, path, info[1]);
  try {
    check_driver_file(path, params);
  } catch (const LoadError &e) {
    throw_code(env, e.code, e.what());
  }
  return env.Undefined();
}

Napi::Value Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_booted(env);
  LoadOptions o;
  std::string path = info[0].As<Napi::String>();
  o.name = info[1].As<Napi::String>();
  o.time_budget_ms = (uint64_t)info[2].As<Napi::Number>().Int64Value();
  o.mem_limit = (size_t)info[3].As<Napi::Number>().Int64Value();
  if (info[4].IsArray()) {
    Napi::Array patches = info[4].As<Napi::Array>();
    for (uint32_t i = 0; i < patches.Length(); i++) {
      Napi::Object p = patches.Get(i).As<Napi::Object>();
      Napi::Buffer<uint8_t> bytes = p.Get("bytes").As<Napi::Buffer<uint8_t>>();
      o.patches.push_back({(uint64_t)p.Get("offset").As<Napi::Number>().Int64Value(),
                           std::vector<uint8_t>(bytes.Data(), bytes.Data() + bytes.Length()),
                           p.Get("transient").ToBoolean().Value()});
    }
  }
  o.params = params_arg(env, path, info[5]);
  // env: strings by name, checked in lib/load-options.ts.
  if (info[6].IsObject()) {
    Napi::Object given = info[6].As<Napi::Object>();
    Napi::Array names = given.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).ToString();
      o.env[name] = given.Get(name).ToString().Utf8Value();
    }
  }
  // devices: PCI addresses, checked in lib/load-options.ts.
  if (info[7].IsArray()) {
    Napi::Array devices = info[7].As<Napi::Array>();
    for (uint32_t i = 0; i < devices.Length(); i++) o.devices.push_back(devices.Get(i).ToString().Utf8Value());
  }
  // dmaBytes: whole 2 MiB pages within the bus window, checked in lib/load-options.ts.
  if (info[8].IsNumber()) o.dma_bytes = (size_t)info[8].As<Napi::Number>().Int64Value();
  // argv: strings, argv[0] first, checked in lib/load-options.ts.
  if (info[9].IsArray()) {
    Napi::Array argv = info[9].As<Napi::Array>();
    for (uint32_t i = 0; i < argv.Length(); i++) o.argv.push_back(argv.Get(i).ToString().Utf8Value());
  }
  try {
    return Napi::Number::New(env, load_driver(path, o)->id);
  } catch (const LoadError &e) {
    throw_code(env, e.code, e.what());
  } catch (const std::exception &e) {
    throw_code(env, "ELOAD", e.what());
  }
}

// pkruSequenceAt(code): the loader's scan (native/loader/text_patch.h), for
// the fault planner: a patch that makes such a sequence is never loaded.
Napi::Value PkruSequenceAt(const Napi::CallbackInfo &info) {
  Napi::Buffer<uint8_t> code = info[0].As<Napi::Buffer<uint8_t>>();
  return Napi::Number::New(info.Env(), (double)pkru_sequence_at(code.Data(), code.Length()));
}

// patchText(id, offset, bytes, transient): an injected fault in the running
// driver's text (native/loader/text_patch.h).
Napi::Value PatchText(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  uint64_t offset = (uint64_t)info[1].As<Napi::Number>().Int64Value();
  Napi::Buffer<uint8_t> bytes = info[2].As<Napi::Buffer<uint8_t>>();
  std::string why;
  if (!text_patch(d, offset, bytes.Data(), bytes.Length(), info[3].ToBoolean().Value(), &why))
    throw_code(info.Env(), "EPATCH", d->name + ": cannot inject at text offset " + hex(offset) + ": " + why);
  return info.Env().Undefined();
}

// program(id): whether the driver is a program (its main, found at load: posix_program_main).
Napi::Value Program(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), domain_arg(info)->program_main != 0); }

// kill(id, signal): see posix_kill.
Napi::Value Kill(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  std::string why;
  if (int e = posix_kill(d, info[1].As<Napi::Number>().Int32Value(), &why)) throw_code(info.Env(), strerrorname_np(-e), why);
  return info.Env().Undefined();
}

// unload(id, fallback): see unload_driver.
Napi::Value Unload(const Napi::CallbackInfo &info) {
  unload_driver(domain_arg(info), info[1].IsNumber() ? domain_arg(info, 1) : nullptr);
  return info.Env().Undefined();
}

Napi::Value Resolve(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  std::string sym = info[1].As<Napi::String>();
  void *p = dlsym(d->handle, sym.c_str());
  if (!p || !d->in_text((uintptr_t)p))
    throw_code(info.Env(), "ENOSYM", d->name + " exports no function '" + sym + "' (mark it NOOKS_EXPORT)");
  return Napi::Number::New(info.Env(), (double)(uintptr_t)p);
}

}  // namespace

// A driver argument is one 64-bit register: -2^63 .. 2^64-1, signed or not.
uint64_t nooks::to_u64(Napi::Env env, Napi::Value v, LazyName what) {
  auto named = [&] { return what() + " (" + v.ToString().Utf8Value() + (v.IsBigInt() ? "n" : "") + ")"; };
  auto out_of_range = [&] {
    throw_code(env, "ERANGE", named() + " is out of range: a driver's registers are 64-bit (-2^63 .. 2^64-1)");
  };
  if (v.IsBigInt()) {
    bool lossless;
    int64_t s = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return (uint64_t)s;
    uint64_t u = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) out_of_range();
    return u;
  }
  if (v.IsNumber()) {
    double x = v.As<Napi::Number>().DoubleValue();
    if (std::trunc(x) != x)  // NaN or a fraction; infinities are out of range below
      throw_code(env, "EINVAL", named() + " is not an integer");
    if (x < -0x1p63 || x >= 0x1p64) out_of_range();
    return x < 0 ? (uint64_t)(int64_t)x : (uint64_t)x;
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  throw_code(env, "EINVAL", what() + " must be a number, a bigint or a boolean");
}

namespace {

Napi::Value to_js(Napi::Env env, uint64_t ret) {
  int64_t r = (int64_t)ret;
  if (r > (1ll << 53) || r < -(1ll << 53)) return Napi::BigInt::New(env, r);
  return Napi::Number::New(env, (double)r);
}

// The caller's crossing ended in a fault (the thread has left the domain):
// the failure is torn down before the fault is thrown to JavaScript, whose
// agent decides at once (restart, disable, fallback).
[[noreturn]] void throw_fault(Napi::Env env, Domain *d, const Fault &own) {
  recovery_ensure_torn_down(d);
  // A thread that was only aborted reports what failed the domain.
  std::optional<Fault> primary = own.primary ? std::nullopt : primary_fault(d, own.generation);
  const Fault &f = primary ? *primary : own;
  Napi::Object fo = fault_object(env, d->name, f);
  Napi::Error e = Napi::Error::New(env, d->name + ": " + fo.Get("message").ToString().Utf8Value());
  e.Set("code", "EDRIVERFAULT");
  e.Set("fault", fo);
  throw e;
}

// A driver failed on a thread of its own (its threads, timers, handlers) is
// restarted once the agent hears of it, on the JavaScript thread: the message
// says to wait for that, not to give up as for a disabled one.
[[noreturn]] void throw_unavailable(Napi::Env env, Domain *d) {
  DomainState s = d->state.load();
  std::string until = s == DomainState::failed || s == DomainState::recovering
                          ? " until it is restarted (it failed on a thread of its own: wait for the kernel's 'recovered' "
                            "event, or for driver.state 'running')"
                          : "";
  throw_code(env, "EUNAVAILABLE", d->name + " is " + state_name(s) + ": calls are refused" + until);
}

// `crashy.add`: the driver's exported function at `fn`, for messages.
std::string function_name(const Domain *d, uint64_t fn) {
  Dl_info info;
  if (dladdr((void *)(uintptr_t)fn, &info) && info.dli_sname) return d->name + "." + info.dli_sname;
  return d->name + "'s function at " + hex(fn);
}

// An argument of a driver call: to_u64, or the way to pass what JavaScript
// holds as bytes (a string, a buffer), which the driver reads by address.
uint64_t call_arg(Napi::Env env, Napi::Value v, LazyName what) {
  if (v.IsString())
    throw_code(env, "EINVAL", what() + " is a string: a driver reads a string at an address in its memory; pass " +
                                  "driver.cstring(text), a NUL-terminated copy there");
  if (v.IsTypedArray() || v.IsArrayBuffer())
    throw_code(env, "EINVAL", what() + " is a buffer: a driver reads bytes at an address in its memory; pass " +
                                  "driver.alloc(size), after driver.write(address, bytes)");
  return to_u64(env, v, what);
}

// `crashy.add was given 7 arguments`: too many for the registers a call passes.
[[noreturn]] void too_many_args(Napi::Env env, const std::string &fn, size_t n) {
  throw_code(env, "EINVAL", fn + " was given " + std::to_string(n) + " arguments: a driver function takes at most six " +
                                "(pass more in a struct in driver memory: driver.alloc and driver.write)");
}

// call(domain, fnAddress, ...args): one crossing into the driver.
Napi::Value Call(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Domain *d = domain_arg(info);
  XpcCall c{(const void *)(uintptr_t)info[1].As<Napi::Number>().DoubleValue(), {}, 0};
  if (!d->in_text((uintptr_t)c.fn)) throw_code(env, "EINVAL", hex((uintptr_t)c.fn) + " is not a function of " + d->name);
  if (info.Length() > 8) too_many_args(env, function_name(d, (uintptr_t)c.fn), info.Length() - 2);
  for (size_t i = 2; i < info.Length(); i++) {
    c.args[i - 2] = call_arg(env, info[i], [&] { return "argument " + std::to_string(i - 1) + " of " + function_name(d, (uintptr_t)c.fn); });
  }
  Fault f;
  switch (xpc_call(d, &c, &f)) {
    case EnterResult::ok: return to_js(env, c.ret);
    case EnterResult::unavailable: throw_unavailable(env, d);
    case EnterResult::fault: throw_fault(env, d, f);
  }
  return env.Undefined();
}

// callBatch(domain, [[fnAddress, ...args], ...]): deferred calls, one crossing.
Napi::Value CallBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Domain *d = domain_arg(info);
  Napi::Array list = info[1].As<Napi::Array>();
  if (list.Length() > NOOKS_BATCH_MAX)
    throw_code(env, "EINVAL", "at most " + std::to_string(NOOKS_BATCH_MAX) + " calls per batch");
  if (!d->batch_runner) throw_code(env, "ENOSYS", d->name + " has no deferred-call runner (not linked with the driver runtime)");
  std::vector<nooks_batch_call> calls(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Array one = list.Get(i).As<Napi::Array>();
    if (one.Length() < 1) throw_code(env, "EINVAL", "each deferred call is [function, ...up to six arguments]");
    calls[i].fn = (uint64_t)one.Get(0u).As<Napi::Number>().DoubleValue();
    if (!d->in_text(calls[i].fn)) throw_code(env, "EINVAL", "deferred call " + std::to_string(i) + " is not a function of " + d->name);
    if (one.Length() > 7) too_many_args(env, function_name(d, calls[i].fn) + " in deferred call " + std::to_string(i), one.Length() - 1);
    for (uint32_t a = 1; a < one.Length(); a++) {
      calls[i].args[a - 1] = call_arg(env, one.Get(a), [&] {
        return "argument " + std::to_string(a) + " of " + function_name(d, calls[i].fn) + " in deferred call " + std::to_string(i);
      });
    }
  }
  BatchResult r = xpc_call_batch(d, calls);
  if (r.result == EnterResult::unavailable) throw_unavailable(env, d);
  if (r.result == EnterResult::fault) throw_fault(env, d, r.fault);
  Napi::Array out = Napi::Array::New(env, r.rets.size());
  for (uint32_t i = 0; i < r.rets.size(); i++) out.Set(i, to_js(env, r.rets[i]));
  return out;
}

Napi::Value Restart(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  std::string why;
  if (recovery_restart(d, &why)) return info.Env().Undefined();
  // its generation: a restart cut short by a fault on another thread is a failure the agent has dealt with
  Napi::Error e = Napi::Error::New(info.Env(), d->name + ": restart failed: " + why);
  e.Set("code", "ERESTART");
  e.Set("generation", (double)failure_generation(d));
  throw e;
}

// Explicit failure (API/CLI): the domain is failed and torn down as if it had faulted.
Napi::Value Fail(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  mark_failed(d);
  recovery_ensure_torn_down(d);
  return Napi::Number::New(info.Env(), (double)failure_generation(d));
}

// disable(id, why): the agent gives up on the driver; a shadow fails what it parked, saying why.
Napi::Value Disable(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  std::string why = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "disabled";
  mark_failed(d);
  recovery_ensure_torn_down(d);
  d->state.store(DomainState::disabled);
  shadow_give_up(d, d->name + " " + why);
  return info.Env().Undefined();
}

// setRecoveryPolicy(id, shadow, stallMs): the policy's choices for the driver
// that the kernel applies itself: shadowing (native/shadow), the nannies' deadline.
Napi::Value SetRecoveryPolicy(const Napi::CallbackInfo &info) {
  Domain *d = domain_arg(info);
  d->shadowed.store(info[1].ToBoolean().Value());
  d->stall_ms.store((uint64_t)info[2].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value State(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), state_name(domain_arg(info)->state.load()));
}

Napi::Value LoadSerial(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), (double)domain_arg(info)->serial); }

Napi::Value Domains(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_owner(env);
  Napi::Array a = Napi::Array::New(env);
  std::lock_guard<std::mutex> g(g_domains_lock);
  for (Domain *d : g_domains) {
    if (!d) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", d->id);
    o.Set("name", d->name);
    o.Set("path", d->path);
    o.Set("state", state_name(d->state.load()));
    o.Set("isolation", isolation_name(g_backend.mode));
    int key = g_backend.protection_key(d), sharers = 0;
    o.Set("pkey", key);
    for (Domain *e : g_domains) sharers += e && e != d && key >= 0 && g_backend.protection_key(e) == key;
    o.Set("sharedKey", sharers > 0);
    o.Set("heapUsed", (double)d->heap.used());
    o.Set("memLimit", (double)d->mem_limit);
    o.Set("timeBudgetMs", (double)d->time_budget_ms);
    o.Set("objects", (double)d->objects.count());
    o.Set("recoveries", (double)d->recoveries);
    o.Set("interrupts", (double)d->interrupts.load());
    o.Set("timeouts", (double)d->timeouts.load());
    {
      std::lock_guard<std::mutex> tg(d->threads_lock);
      o.Set("threads", (double)d->threads.size());
      uint64_t entries = 0;
      for (DomainThread *dt : d->threads) entries += dt->entries;
      o.Set("crossings", (double)entries);
    }
    a.Set(a.Length(), o);
  }
  return a;
}

Napi::Value Objects(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  for (const Object &o : domain_arg(info)->objects.list()) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("type", object_type_name(o.type));
    x.Set("address", o.type == ObjectType::irq ? std::to_string(o.key) : hex(o.key));
    x.Set("size", (double)o.size);
    x.Set("label", o.label);
    a.Set(a.Length(), x);
  }
  return a;
}

// taps(id): the crossings between the driver and its classes, per kernel call and operation.
Napi::Value Taps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  for (const TapCount &t : taps_of(domain_arg(info))) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("direction", t.info->direction == TapDirection::to_driver ? "to-driver" : "to-kernel");
    x.Set("table", t.info->table);
    x.Set("name", t.info->name);
    if (t.info->role) x.Set("role", t.info->role);
    x.Set("calls", (double)t.calls);
    x.Set("faults", (double)t.faults);
    x.Set("held", (double)t.held);
    x.Set("crossings", (double)t.crossings);
    a.Set(a.Length(), x);
  }
  return a;
}

Napi::Value Log(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_owner(env);
  Napi::Array a = Napi::Array::New(env);
  for (const LogLine &l : klog_drain()) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("level", l.level);
    x.Set("source", l.source);
    x.Set("text", l.text);
    if (!l.event.kind.empty()) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("kind", l.event.kind);
      for (const LogField &f : l.event.fields) {
        if (f.type == LogField::text_field) e.Set(f.key, f.text);
        else if (f.type == LogField::flag_field) e.Set(f.key, f.number != 0);
        else e.Set(f.key, f.number);
      }
      x.Set("event", e);
    }
    a.Set(a.Length(), x);
  }
  return a;
}

// A 64-bit kernel object in the host-object heap: tests and the demo aim wild
// writes at it and check it survives.
Napi::Value HostProbe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_booted(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", Napi::Number::New(env, (double)(uintptr_t)g_host_probe));
  o.Set("value", Napi::BigInt::New(env, *g_host_probe));
  return o;
}

// holdNewThreads(id): test hook: the driver's new threads wait at their first
// crossing, past its state check, until its domain has failed and is torn down
// (native/domain/domain.cc, hold_for_test).
Napi::Value HoldNewThreads(const Napi::CallbackInfo &info) {
  domain_arg(info)->hold_new_threads.store(true);
  return info.Env().Undefined();
}

// holdNewIrqThreads(id): test hook: the threads of the driver's newly
// requested irq lines wait before their first line until free_irq has given
// up on them (native/kapi/irq.cc, hold_for_test).
Napi::Value HoldNewIrqThreads(const Napi::CallbackInfo &info) {
  domain_arg(info)->hold_new_irq_threads.store(true);
  return info.Env().Undefined();
}

// holdSignalHandlers(id): test hook: the driver's signal handler threads
// run one at a time, in the order started (native/posix/signals.cc, hold_for_test).
Napi::Value HoldSignalHandlers(const Napi::CallbackInfo &info) {
  domain_arg(info)->hold_signal_handlers.store(true);
  return info.Env().Undefined();
}

// stallNextWait(id, busy): test hook: the driver's next wait in a kernel call never
// ends until releaseStalledWaits (native/kapi/wait.cc, stall_for_test).
Napi::Value StallNextWait(const Napi::CallbackInfo &info) {
  domain_arg(info)->stall_next_wait.store(info[1].ToBoolean().Value() ? Domain::Stall::busy : Domain::Stall::wait);
  return info.Env().Undefined();
}

Napi::Value ReleaseStalledWaits(const Napi::CallbackInfo &info) {
  release_stalled_waits();
  return info.Env().Undefined();
}

// holdTeardown(id, afterRelease): test hook: the driver's next teardown waits before it releases the driver's
// objects (or once it has) until releaseTeardown (native/recovery/teardown.cc, hold_for_test).
Napi::Value HoldTeardown(const Napi::CallbackInfo &info) {
  domain_arg(info)->hold_teardown.store(info[1].ToBoolean().Value() ? Domain::TeardownHold::after_release
                                                                    : Domain::TeardownHold::before_release);
  return info.Env().Undefined();
}

Napi::Value ReleaseTeardown(const Napi::CallbackInfo &info) {
  recovery_release_held_teardown_for_test();
  return info.Env().Undefined();
}

// holdFailureClaim(id): test hook: the driver's next failure waits inside its claim, marked failed with its
// generation not moved on yet, until a thread that fails it too waits for it, or releaseFailureClaim
// (native/xpc/claim_hold.h).
Napi::Value HoldFailureClaim(const Napi::CallbackInfo &info) {
  hold_next_failure_claim_for_test(domain_arg(info));
  return info.Env().Undefined();
}

Napi::Value ReleaseFailureClaim(const Napi::CallbackInfo &info) {
  release_failure_claim_for_test();
  return info.Env().Undefined();
}

// setTeardownWaits(ms?): test hook: how long a teardown waits for threads to
// leave the domain, then to stop, before it leaves one running (recovery.h);
// without ms, the default again.
Napi::Value SetTeardownWaits(const Napi::CallbackInfo &info) {
  recovery_set_teardown_wait_for_test(info[0].IsUndefined() ? kTeardownWait : std::chrono::milliseconds(info[0].ToNumber().Int64Value()));
  return info.Env().Undefined();
}

// setReregisterLimit(ms?): test hook: how long a parked device's owner may run
// without registering it again before the shadow ends it (shadow.h); without
// ms, the default again.
Napi::Value SetReregisterLimit(const Napi::CallbackInfo &info) {
  shadow_set_reregister_limit_for_test(info[0].IsUndefined() ? kReregisterLimit : std::chrono::milliseconds(info[0].ToNumber().Int64Value()));
  return info.Env().Undefined();
}

// teardownWaitsRunOut(): test hook: how many of the teardown's and free_irq's
// timed waits ran to their end, since the process started (recovery.h).
Napi::Value TeardownWaitsRunOut(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), (double)recovery_waits_run_out()); }

// holdNannies(held): test hook: the watchdog thread runs no nanny while held (trap.h).
Napi::Value HoldNannies(const Napi::CallbackInfo &info) {
  hold_nannies_for_test(info[0].ToBoolean());
  return info.Env().Undefined();
}

// recoveryIdle(): test hook: the recovery thread has no failure queued or in hand (recovery.h).
Napi::Value RecoveryIdle(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), recovery_idle()); }

Napi::Value SetFaultListener(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_booted(env);
  if (g_fault_tsfn) g_fault_tsfn.Release();
  // Referenced: like an open server, a booted kernel keeps the process alive
  // (its drivers' timers and interrupts may still report faults) until shutdown.
  g_fault_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "nooks-faults", 0, 1);
  recovery_set_listener([](Domain *d, const Fault &f) {
    auto *report = new FaultReport{d->id, d->serial, f};
    g_fault_tsfn.NonBlockingCall(report, [](Napi::Env env, Napi::Function fn, FaultReport *r) {
      // A driver unloaded meanwhile may have left its slot to another: not this one's fault. Or be
      // kept for a thread left running, which may free it meanwhile: looked at under a use, not
      // held while the listener runs (it may unload a driver, which waits for the uses to go).
      Napi::Object fault;
      {
        DomainUse use(r->domain, r->serial);
        if (use.get()) fault = fault_object(env, use.get()->name, r->fault);
      }
      if (!fault.IsEmpty()) fn.Call({Napi::Number::New(env, r->domain), fault});
      delete r;
    });
  });
  return env.Undefined();
}

// Under isolation pkey (lib/host-signals.ts): native/trap/host_signals.h.
Napi::Value SignalHandlersOnAltStack(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), handlers_on_altstack()); }

// keepSignalHandlersOnAltStack(keep): under isolation pkey, from the boot to the shutdown (host_signals.h).
Napi::Value KeepSignalHandlersOnAltStack(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].ToBoolean()) {
    stop_keeping_handlers_on_altstack();
    return env.Undefined();
  }
  uv_loop_s *loop = nullptr;  // as node_api.h declares it: <uv.h> would redefine the driver API's HZ
  NAPI_THROW_IF_FAILED(env, napi_get_uv_event_loop(env, &loop), env.Undefined());
  keep_handlers_on_altstack(loop);
  return env.Undefined();
}

// signalHandlerOnAltStack(sig): test hook: whether sig's handler has SA_ONSTACK (host_signals.h).
Napi::Value SignalHandlerOnAltStack(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), handler_on_altstack(info[0].ToNumber().Int32Value()));
}

// "" when isolation 'pkey' can run here, else why not.
Napi::Value PkeyUnusableReason(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), pkey_unusable_reason()); }

#include "addon/core.inc"  // the table of the functions above (lib/wrappers/addon/core.ts)

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // A process (or the worker that booted the kernel) that exits without
  // Kernel.shutdown() still stops the kernel's threads; other environments' exits leave it be.
  napi_add_env_cleanup_hook(env, [](void *exiting) {
    if (exiting == g_boot_env) shutdown_kernel(nullptr);
  }, (napi_env)env);
  export_addon_functions(env, exports);
  return exports;
}

}  // namespace

namespace nooks {

void throw_code(Napi::Env env, const std::string &code, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

}  // namespace nooks

NODE_API_MODULE(nooks, Init)

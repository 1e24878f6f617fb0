// The addon's benchmark functions (lib/wrappers/addon/bench.ts): the
// crossing costs of `nooks bench xpc` and the threads of `nooks bench scale`,
// measured by the C++ loops of bench.cc and scale.cc, and the counts of
// mprotect calls and of spins run out that the class benchmarks divide by
// their operations.
#include <napi.h>

#include <string>
#include <vector>

#include "../addon.h"
#include "../isolation/backend.h"
#include "../isolation/mprotect/mprotect.h"
#include "../isolation/pkey/pkey.h"
#include "../isolation/process/driver_host.h"
#include "bench.h"
#include "scale.h"

namespace nooks {
namespace {

// The round trip and the kernel call, and the mprotect calls each made (isolation 'mprotect'; 0 in the others).
void set_round_trip(Napi::Object o, Domain *d, const void *nop, int runs, int iters) {
  uint64_t calls = mprotect_calls();
  o.Set("roundTripTicks", bench_round_trip(d, nop, runs, iters));
  o.Set("mprotectCallsPerCrossing", double(mprotect_calls() - calls) / ((double)runs * iters));
}

// After set_round_trip: each run's one entry, which makes the kernel calls, is not counted as theirs.
void set_upcall(Napi::Object o, Domain *d, const void *upcalls, int runs, int iters) {
  uint64_t calls = mprotect_calls();
  o.Set("upcallTicks", bench_upcall(d, upcalls, runs, iters));
  double entries = runs * o.Get("mprotectCallsPerCrossing").As<Napi::Number>().DoubleValue();
  o.Set("mprotectCallsPerKernelCall", (double(mprotect_calls() - calls) - entries) / ((double)runs * iters));
}

Napi::Value Bench(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Domain *d = domain_of(info.Env(), info[0]);
  const void *nop = (const void *)(uintptr_t)info[1].As<Napi::Number>().DoubleValue();
  const void *upcalls = (const void *)(uintptr_t)info[2].As<Napi::Number>().DoubleValue();
  int runs = info[3].As<Napi::Number>().Int32Value(), iters = info[4].As<Napi::Number>().Int32Value();
  Napi::Object o = Napi::Object::New(env);
  o.Set("tscPerNs", tsc_per_ns());
  o.Set("wrpkruPairTicks", cpu_has_pku() ? Napi::Value(Napi::Number::New(env, bench_wrpkru_pair(runs, iters))) : env.Null());
  o.Set("mprotectPairTicks", g_backend.flips_page_protection ? Napi::Value(Napi::Number::New(env, bench_mprotect_pair(runs, iters))) : env.Null());
  set_round_trip(o, d, nop, runs, iters);
  o.Set("tappedRoundTripTicks", bench_tapped_round_trip(d, nop, runs, iters));
  set_upcall(o, d, upcalls, runs, iters);
  o.Set("batchedCallTicks", bench_batched_call(d, nop, runs, iters));
  return o;
}

// benchMmio(id, ioReadLoop, trappedReadLoop, bar, runs, iters): one register
// read of an emulated device through the ioread32 kernel call, and one
// trapped in the BAR the driver mapped (MMIO trap-and-emulate).
Napi::Value BenchMmio(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  auto number = [&](int i) { return (uint64_t)info[i].As<Napi::Number>().DoubleValue(); };
  int runs = (int)number(4), iters = (int)number(5);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ioReadTicks", bench_upcall(d, (const void *)number(1), runs, iters));
  o.Set("trappedReadTicks", bench_upcall(d, (const void *)number(2), runs, iters, number(3)));
  return o;
}

// Only the round trip and the kernel call (bench xpc with more domains loaded).
Napi::Value BenchDomains(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  const void *nop = (const void *)(uintptr_t)info[1].As<Napi::Number>().DoubleValue();
  const void *upcalls = (const void *)(uintptr_t)info[2].As<Napi::Number>().DoubleValue();
  int runs = info[3].As<Napi::Number>().Int32Value(), iters = info[4].As<Napi::Number>().Int32Value();
  Napi::Object o = Napi::Object::New(info.Env());
  bench_round_trip(d, nop, 1, 1);  // the drivers just loaded are closed once, not counted as any crossing's
  set_round_trip(o, d, nop, runs, iters);
  set_upcall(o, d, upcalls, runs, iters);
  return o;
}

// benchScale(ids, fns, threads, warmup, seconds): thread i crosses into ids[i % n] through fns[i % n],
// `warmup` times before the start, then for `seconds`.
Napi::Value BenchScale(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array ids = info[0].As<Napi::Array>(), fns = info[1].As<Napi::Array>();
  std::vector<ScaleTarget> targets;
  for (uint32_t i = 0; i < ids.Length(); i++)
    targets.push_back({domain_of(env, ids.Get(i)), (const void *)(uintptr_t)fns.Get(i).As<Napi::Number>().DoubleValue()});
  int threads = info[2].As<Napi::Number>().Int32Value(), warmup = info[3].As<Napi::Number>().Int32Value();
  if (targets.empty() || threads <= 0 || warmup < 0) throw_code(env, "EINVAL", "benchScale: no driver, no thread or a negative warm-up");
  ScaleResult r = bench_scale(targets, threads, warmup, info[4].As<Napi::Number>().DoubleValue());
  if (r.failed) throw_code(env, "EFAULT", std::to_string(r.failed) + " of " + std::to_string(threads) + " threads could not cross (a driver failed)");
  Napi::Object o = Napi::Object::New(env);
  o.Set("crossings", (double)r.crossings);
  o.Set("seconds", r.seconds);
  return o;
}

// mprotectCalls(): the mprotect calls made so far, by every thread (isolation 'mprotect'; 0 in the others).
Napi::Value MprotectCalls(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), (double)mprotect_calls()); }

// processSpinsRunOut(): the kernel threads' waits on a host process that spun out and slept (isolation 'process'; 0 in the others).
Napi::Value ProcessSpinsRunOut(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), (double)driver_host_spins_run_out()); }

}  // namespace

#include "addon/bench.inc"  // the table of the functions above (lib/wrappers/addon/bench.ts)

}  // namespace nooks

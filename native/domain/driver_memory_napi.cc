// The addon's functions for driver memory (driver_memory.h): memAlloc(id,
// size), memFree(id, address), memWrite(id, address, bytes), memRead(id,
// address, length), behind Driver.alloc & co. (lib/kernel.ts).
#include <napi.h>

#include <cmath>
#include <vector>

#include "../addon.h"
#include "driver_memory.h"

namespace nooks {
namespace {

uint64_t address_arg(Napi::Env env, Napi::Value v) {
  if (!v.IsNumber() && !v.IsBigInt()) throw_code(env, "EINVAL", "an address is a number or a bigint");
  return to_u64(env, v, [] { return std::string("the address"); });
}

size_t length_arg(Napi::Env env, Napi::Value v, const char *what) {
  double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(x >= 0 && x <= 9007199254740992.0 && x == std::trunc(x)))
    throw_code(env, "EINVAL", std::string(what) + " must be a non-negative integer, got " + v.ToString().Utf8Value());
  return (size_t)x;
}

template <class F>
auto driver_memory(Napi::Env env, F op) -> decltype(op()) {
  try {
    return op();
  } catch (const DriverMemoryError &e) {
    throw_code(env, e.code, e.what());
  }
}

Napi::Value MemAlloc(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  size_t size = length_arg(info.Env(), info[1], "the size");
  return Napi::Number::New(info.Env(), (double)driver_memory(info.Env(), [&] { return driver_alloc(d, size); }));
}

Napi::Value MemFree(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  uint64_t p = address_arg(info.Env(), info[1]);
  driver_memory(info.Env(), [&] { driver_free(d, p); });
  return info.Env().Undefined();
}

Napi::Value MemWrite(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  uint64_t p = address_arg(info.Env(), info[1]);
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw_code(info.Env(), "EINVAL", "driver.write takes a Buffer or Uint8Array");
  Napi::Uint8Array bytes = info[2].As<Napi::Uint8Array>();
  driver_memory(info.Env(), [&] { driver_write(d, p, bytes.Data(), bytes.ByteLength()); });
  return info.Env().Undefined();
}

Napi::Value MemRead(const Napi::CallbackInfo &info) {
  Domain *d = domain_of(info.Env(), info[0]);
  uint64_t p = address_arg(info.Env(), info[1]);
  size_t n = length_arg(info.Env(), info[2], "the length");
  std::vector<uint8_t> bytes = driver_memory(info.Env(), [&] { return driver_read(d, p, n); });
  return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), n);
}

#include "addon/driver_memory.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace
}  // namespace nooks

// The bus's N-API functions (lib/kernel.ts): emulated devices added, real PCI
// devices attached, the devices listed, an interrupt line raised, a BAR mapped
// and a line's ends of interrupt counted (test hooks).
#include <napi.h>

#include <atomic>

#include "../addon.h"
#include "../domain/domain.h"
#include "../isolation/backend.h"
#include "../kapi/subsystems.h"
#include "bus.h"
#include "host_pci.h"

namespace nooks {
namespace {

Napi::Object device_object(Napi::Env env, const DeviceInfo &i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", i.index);
  o.Set("name", i.name);
  o.Set("kind", i.kind);
  o.Set("address", i.address);
  o.Set("vendor", i.vendor);
  o.Set("device", i.device_id);
  o.Set("irq", i.irq);
  Domain *d = i.domain >= 0 ? g_domains[i.domain].load() : nullptr;
  o.Set("driver", d ? Napi::Value(Napi::String::New(env, d->name)) : env.Null());
  o.Set("errors", (double)i.errors);
  return o;
}

// addDevice(kind, { option: string }): a new emulated device on the bus (drivers registered for it probe it now).
Napi::Value AddDevice(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_booted(env);
  DeviceOptions opts;
  if (info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Array keys = o.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string k = keys.Get(i).ToString();
      opts[k] = o.Get(k).ToString();
    }
  }
  try {
    return device_object(env, bus_add_device(info[0].As<Napi::String>(), opts));
  } catch (const DeviceError &e) {
    throw_code(env, e.code, e.what());
  } catch (const std::exception &e) {
    throw_code(env, "EINVAL", e.what());
  }
}

// attachPci(address, 'uio' | 'vfio'): a real PCI device of the machine on the bus, named by its address.
Napi::Value AttachPci(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_booted(env);
  std::string address = info[0].As<Napi::String>(), via = info[1].As<Napi::String>();
  if (g_backend.no_real_devices) throw_code(env, "ENOTSUP", g_backend.no_real_devices);
  try {
    return device_object(env, bus_attach(via == "vfio" ? vfio_open(address) : uio_open(address), address));
  } catch (const DeviceError &e) {
    throw_code(env, e.code, e.what());
  } catch (const std::exception &e) {
    throw_code(env, "EINVAL", e.what());
  }
}

Napi::Value Devices(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_owner(env);
  Napi::Array a = Napi::Array::New(env);
  for (const DeviceInfo &i : bus_devices()) a.Set(a.Length(), device_object(env, i));
  return a;
}

Napi::Value RaiseIrq(const Napi::CallbackInfo &info) {
  require_owner(info.Env());
  return Napi::Boolean::New(info.Env(), irq_raise(info[0].As<Napi::Number>().Uint32Value()));
}

// countIrqAcks(line, on): test hook: the line's ends of interrupt (a real
// device's unmask, irq_set_ack) counted from 0 (on), or no more (off); the count so far.
Napi::Value CountIrqAcks(const Napi::CallbackInfo &info) {
  static std::atomic<uint32_t> acks[kIrqLines];
  Napi::Env env = info.Env();
  require_owner(env);
  uint32_t line = info[0].As<Napi::Number>().Uint32Value();
  if (line >= kIrqLines) throw_code(env, "EINVAL", "no irq line " + std::to_string(line));
  uint32_t so_far = acks[line].exchange(0);
  irq_set_ack(line, info[1].ToBoolean().Value() ? std::function<void()>([line] { acks[line]++; }) : nullptr);
  return Napi::Number::New(env, so_far);
}

// mapBar(domain, deviceIndex, bar): test hook, what the driver's mmap of resource<bar> gives it (bus_map_bar).
Napi::Value MapBar(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  require_owner(env);
  Domain *d = domain_of(env, info[0]);
  try {
    return Napi::Number::New(env, (double)bus_map_bar(d, info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value()));
  } catch (const DeviceError &e) {
    throw_code(env, e.code, e.what());
  }
}

#include "addon/bus.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace
}  // namespace nooks

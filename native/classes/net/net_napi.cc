// The net class: the N-API functions behind lib/classes/net.ts, and the
// callback that hands JavaScript what the drivers sent up (on_kick).
#include <set>

#include "../../addon.h"
#include "../../dev/bus.h"
#include "../../dev/device.h"
#include "../../kapi/log.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../common/cross.h"
#include "net_core.h"

namespace nooks {
namespace net_class {
namespace {

constexpr size_t kTxQueueMax = 8192;  // frames waiting per interface

void set_ref(Napi::Env env, Net &n) {
  bool want = false;
  {
    std::lock_guard<std::mutex> g(n.lock);
    for (auto &e : n.ifaces) want |= e.second.users > 0;
  }
  n.js.keep_alive(env, want);
}

// Whether the driver of an interface failed during a call the JavaScript thread makes into it (before the call's
// ops or in them): an error it then returned is the failure's, not the driver's answer. Made before the call.
class FailedDuring {
 public:
  explicit FailedDuring(const std::shared_ptr<NetDev> &k) : d_(g_domains[k->domain]), generation_(d_ ? d_->failure_gen.load() : 0) {}
  // The driver is gone, is not running, or failed since this was made.
  bool operator()() const { return !d_ || d_->state.load() != DomainState::running || d_->failure_gen.load() != generation_; }
  Domain *domain() const { return d_; }  // the JavaScript thread's: no unload meanwhile

 private:
  Domain *const d_;
  const uint64_t generation_;
};

// The unshadowed driver failed during the JavaScript thread's `doing` ("opening", "configuring") of interface `name`:
// EDRIVERFAILED with that failure's fault, which lib/classes/net.ts hands to the recovery agent at once, as a driver
// call's fault is, to say whether the driver was restarted: nothing here knows what the policy will decide.
[[noreturn]] void throw_failed_meanwhile(Napi::Env env, const std::string &name, const char *doing, Domain *d) {
  Napi::Error e = Napi::Error::New(env, name + ": " + doing + " failed: its driver " + (d ? "(" + d->name + ") " : "") + "failed meanwhile");
  e.Set("code", "EDRIVERFAILED");
  if (d) e.Set("fault", failure_value(env, failure_of(*d)));
  throw e;
}

}  // namespace

void on_kick(Napi::Env env) {
  Net &n = net();
  std::vector<std::string> replay, names;
  {
    std::lock_guard<std::mutex> g(n.lock);
    n.js.drained();
    for (auto &e : n.ifaces) {
      if (e.second.replay && e.second.dev) replay.push_back(e.first);
      if (!e.second.txq.empty()) names.push_back(e.first);
    }
  }
  tx_timeouts(&names);
  for (const std::string &name : replay) {
    std::shared_ptr<NetDev> k = live(name);
    if (!k) continue;
    FailedDuring failed_during(k);
    Refusal refused_by;
    int r = open_dev(name, k, &refused_by);
    // The restarted driver refused the replay (its ndo_open or a setting's op): the handles cannot carry on, and
    // nothing would open the interface for them. A failure during it is the next restart's to replay.
    bool refused = r && !failed_during();
    {
      std::lock_guard<std::mutex> g(n.lock);
      Iface &i = n.ifaces[name];
      i.replay = false;
      if (refused && i.dev == k)
        detach(n, i, "EIO", name + ": reopening after its driver restarted failed (" + refused_by.why + "); open it again");
    }
    if (r) klog(4, "net: %s: reopening after the driver came back failed (%d)", name.c_str(), r);
    else klog(6, "net: %s: configuration replayed and reopened", name.c_str());
    names.push_back(name);
  }
  for (const std::string &name : names) pump(name);
  std::vector<RxFrame> rx;
  std::vector<std::pair<std::string, bool>> links;
  std::vector<Detached> detached;
  {
    std::lock_guard<std::mutex> g(n.lock);
    rx.swap(n.rx);
    links.swap(n.link_events);
    detached.swap(n.detach_events);
  }
  if (!detached.empty()) set_ref(env, n);  // detached handles no longer keep the process alive
  if (rx.empty() && links.empty() && detached.empty()) return;
  // one event per interface: its frames in order, and its link state if it changed
  std::map<std::string, std::vector<size_t>> per;
  for (size_t j = 0; j < rx.size(); j++) per[rx[j].iface].push_back(j);
  Napi::Array events = Napi::Array::New(env);
  uint32_t k = 0;
  for (auto &p : per) {
    Napi::Object ev = Napi::Object::New(env);
    ev.Set("iface", p.first);
    Napi::Array frames = Napi::Array::New(env, p.second.size());
    for (uint32_t j = 0; j < p.second.size(); j++) {
      std::vector<uint8_t> &f = rx[p.second[j]].data;
      frames.Set(j, Napi::Buffer<uint8_t>::Copy(env, f.data(), f.size()));
    }
    ev.Set("frames", frames);
    events.Set(k++, ev);
  }
  for (auto &l : links) {
    Napi::Object ev = Napi::Object::New(env);
    ev.Set("iface", l.first);
    ev.Set("link", Napi::Boolean::New(env, l.second));
    events.Set(k++, ev);
  }
  for (auto &x : detached) {
    Napi::Object ev = Napi::Object::New(env);
    ev.Set("iface", x.iface);
    ev.Set("detached", x.why);
    ev.Set("code", x.code);
    ev.Set("resets", Napi::Number::New(env, (double)x.resets));
    ev.Set("fault", failure_value(env, x.failure));
    events.Set(k++, ev);
  }
  n.js.deliver({events});
}

namespace {

bool parse_mac(const std::string &s, std::array<uint8_t, 6> *out) {
  unsigned v[6];
  char extra;
  if (sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6) return false;
  for (int i = 0; i < 6; i++) {
    if (v[i] > 255) return false;
    (*out)[i] = (uint8_t)v[i];
  }
  return true;
}

Iface &iface_or_throw(Napi::Env env, Net &n, const std::string &name) {
  auto it = n.ifaces.find(name);
  if (it == n.ifaces.end()) {
    std::string known;
    for (auto &e : n.ifaces) known += (known.empty() ? "" : ", ") + e.first;
    throw_code(env, "ENODEV", name + ": no such interface (interfaces: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

// With n.lock held: the interface of a handle opened at its reset count `resets` (netOpen's). A handle the interface
// was reset under since, its 'detached' event maybe not delivered yet, is refused with the latest reset's error and
// count (lib/classes/net.ts detaches it with them): nothing it asks reaches the interface a handle opened since owns.
Iface &handle_iface(Napi::Env env, Net &n, const std::string &name, double resets) {
  Iface &i = iface_or_throw(env, n, name);
  if ((double)i.resets > resets) {
    Napi::Error e = Napi::Error::New(env, i.reset_why);
    e.Set("code", i.reset_code);
    e.Set("resets", Napi::Number::New(env, (double)i.resets));
    e.Set("fault", failure_value(env, i.reset_failure));
    throw e;
  }
  return i;
}

// With n.lock held: one more user of i; its handle's reset count, which its close hands back (NetClose).
double add_user(Iface &i) {
  i.users++;
  return (double)i.resets;
}

// The open of interface `name`, whose registration k belongs to d, found d failed: if d is shadowed and its
// failure's teardown parks the interface (k still in place) or has parked it, the open is recorded with it, as
// the handles open at the failure are (add_user: *resets); the restarted driver's registration opens it (its
// replay: ndo_open). d's shadowing changes only on the JavaScript thread (a give-up, an unload, the policy): not
// during the open.
bool open_for_restore(Net &n, const std::string &name, const std::shared_ptr<NetDev> &k, const Domain &d, double *resets) {
  if (!shadow_parks(&d)) return false;
  std::lock_guard<std::mutex> g(n.lock);
  Iface &i = n.ifaces[name];
  if (i.dev != k && !(i.ticket && !i.dev)) return false;
  *resets = add_user(i);
  return true;
}

// Takes n.lock: forgets the configuration of interface `name` if no handle has it open (forget_config).
bool forget_unused_config(Net &n, const std::string &name) {
  std::lock_guard<std::mutex> g(n.lock);
  Iface &i = n.ifaces[name];
  if (i.users) return false;
  forget_config(i);
  return true;
}

// netInit(deliver): deliver([{ iface, frames?: Buffer[], link?: boolean, detached?: why, code?, resets? }, ...]).
Napi::Value NetInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  n.js.init(env, info[0].As<Napi::Function>());
  return env.Undefined();
}

// netInfo(name, resets?): the interface, or null if no such name; with a handle's reset count, refused to a handle
// the interface was reset under (handle_iface).
Napi::Value NetInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  Napi::Object o = Napi::Object::New(env);
  {
    std::lock_guard<std::mutex> g(n.lock);
    auto it = n.ifaces.find(name);
    if (it == n.ifaces.end()) return env.Null();
    if (info[1].IsNumber()) handle_iface(env, n, name, info[1].As<Napi::Number>().DoubleValue());
    Iface &i = it->second;
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    o.Set("name", i.name);
    o.Set("device", i.device);
    o.Set("registered", Napi::Boolean::New(env, (bool)k));
    o.Set("restarting", Napi::Boolean::New(env, i.ticket != 0));  // the shadow keeps it for a driver's return
    o.Set("open", Napi::Boolean::New(env, k && k->opened));
    o.Set("carrier", Napi::Boolean::New(env, k && k->carrier));
    o.Set("users", Napi::Number::New(env, i.users));
    o.Set("queued", Napi::Number::New(env, (double)i.txq.size()));
    o.Set("domain", Napi::Number::New(env, k ? k->domain : i.last_domain));
  }
  if (k) {
    DomainMemoryAccess access;
    std::lock_guard<std::mutex> g(n.lock);
    if (!k->dead) {
      auto *dev = (net_device *)k->dev;
      o.Set("mac", mac_string(dev->dev_addr));
      o.Set("permanentMac", mac_string(dev->perm_addr));
      o.Set("mtu", Napi::Number::New(env, dev->mtu));
      o.Set("flags", Napi::Number::New(env, dev->flags));
    }
  }
  return o;
}

// netList(): names of every interface ever registered.
Napi::Value NetList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Napi::Array a = Napi::Array::New(env);
  uint32_t j = 0;
  for (auto &e : n.ifaces) a.Set(j++, e.first);
  return a;
}

// netOpen(name): one more user; opens the interface (ndo_open) for the first. The interface's reset count: its
// handle was opened after that many resets (the resets after it detach it).
Napi::Value NetOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  bool kept;
  double resets = 0;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    kept = i.ticket && !i.dev;  // the shadow keeps it for a driver's return: opened by its registration's replay
    if (kept) {
      resets = add_user(i);
    } else if (!i.dev || i.dev->dead) {
      if (std::optional<Ended> ended = shadow_ended(ObjectType::netdev, name))
        throw_code(env, "ENODEV", ended->message);  // as every class's open of a device the shadow ended
      throw_code(env, "ENOTREADY", name + ": not ready: its driver has not registered it");
    }
    k = i.dev;
  }
  if (!kept) {
    FailedDuring failed_during(k);
    Domain *d = failed_during.domain();
    Refusal refused_by;
    int r = open_dev(name, k, &refused_by);
    // A setting the applications configured before, all closed since, that this driver refuses (another than the
    // one they configured: a fallback, or one loaded since): nobody's now, it is forgotten, as a refused
    // configure's setting is, and the open gets the driver's own.
    if (r && refused_by.setting && !failed_during() && forget_unused_config(n, name)) r = open_dev(name, k, &refused_by);
    // The driver failed before the open or during it (in it, or in the
    // configuration before it): r is no ndo_open's.
    if (r && failed_during()) {
      if (!d || !open_for_restore(n, name, k, *d, &resets))
        throw_failed_meanwhile(env, name, "opening", d);
    } else {
      if (r) throw_code(env, r == -ENODEV ? "ENOTREADY" : "EIO", name + ": opening failed (" + refused_by.why + ")");
      std::lock_guard<std::mutex> g(n.lock);
      resets = add_user(n.ifaces[name]);
    }
  }
  set_ref(env, n);
  return Napi::Number::New(env, resets);
}

// netClose(name, resets): one user less, unless the interface was reset since its handle was opened (netOpen's
// count): the reset took that user away. The last stops the interface (ndo_stop). Waiting frames are dropped.
Napi::Value NetClose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  double resets = info[1].As<Napi::Number>().DoubleValue();
  std::shared_ptr<NetDev> k;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    if ((double)i.resets == resets && i.users > 0 && --i.users == 0) {
      i.c.tx_dropped += i.txq.size();
      i.txq.clear();
      i.replay = false;  // a restarted driver's registration waiting for its reopen: nobody's now, it stays closed
      if (i.dev && !i.dev->dead && i.dev->opened) k = i.dev;
    }
  }
  if (k) {
    call_op(k, k->ops.ndo_stop(k->dev));
    std::lock_guard<std::mutex> g(n.lock);
    k->opened = false;
    k->carrier = false;
  }
  set_ref(env, n);
  return env.Undefined();
}

// netSend(name, resets, frames: Buffer[]): queues the frames of the handle opened at reset count `resets` and starts
// sending; how many were queued.
Napi::Value NetSend(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  double resets = info[1].As<Napi::Number>().DoubleValue();
  Napi::Array frames = info[2].As<Napi::Array>();
  uint32_t count = frames.Length(), queued = 0;
  std::vector<std::vector<uint8_t>> copies;
  copies.reserve(count);
  size_t max;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = handle_iface(env, n, name, resets);
    if (!i.users) throw_code(env, "ECLOSED", name + ": not open");
    max = frame_max(i);
  }
  for (uint32_t j = 0; j < count; j++) {
    Napi::Value v = frames[j];
    if (!v.IsBuffer()) throw_code(env, "EINVAL", name + ": frame " + std::to_string(j) + " is not a Buffer");
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    if (b.Length() < ETH_HLEN || b.Length() > max)
      throw_code(env, "EINVAL", name + ": frame " + std::to_string(j) + " is " + std::to_string(b.Length()) + " bytes (" +
                                    std::to_string(ETH_HLEN) + ".." + std::to_string(max) + ")");
    copies.emplace_back(b.Data(), b.Data() + b.Length());
  }
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = handle_iface(env, n, name, resets);  // not reset since the check above (a failure on a driver thread)
    for (auto &c : copies) {
      if (i.txq.size() >= kTxQueueMax) {
        i.c.tx_dropped++;
        continue;
      }
      i.txq.push_back(std::move(c));
      queued++;
    }
  }
  pump(name);
  return Napi::Number::New(env, queued);
}

// The settings configure changes, in the order it applies them.
enum class Setting { mac, mtu, mode, none };

// Test hook (netFailAfterConfigure): interfaces whose next configure fails the driver once its calls into it have
// returned. The JavaScript thread's alone.
std::set<std::string> g_fail_after_configure;

// netConfigure(name, resets, { mtu?, mac?, promiscuous?, allmulti?, multicast? }), for the handle opened at reset
// count `resets`: kept for the interface (replayed after a recovery) and applied now if a driver has it. 0, or what the driver answered when it refused a setting: that
// one and those after it are not kept. A failure of the driver in the calls is hidden if the shadow replays what
// was kept, else EDRIVERFAILED, nothing not applied kept. Each crossing's own result says which it was: a failure
// on another thread after the driver's answer does not make the answer the failure's.
Napi::Value NetConfigure(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  double resets = info[1].As<Napi::Number>().DoubleValue();
  Napi::Object o = info[2].As<Napi::Object>();
  std::shared_ptr<NetDev> k;
  bool want_mtu = o.Has("mtu"), want_mac = o.Has("mac"), want_mode = o.Has("promiscuous") || o.Has("allmulti") || o.Has("multicast");
  // Every setting is read and checked before any is kept: a refused one (EINVAL) leaves the interface's as they were.
  // The types are lib/classes/net.ts's to check. Applied below from these copies: the interface's own settings are
  // read only under n.lock (a teardown resets them).
  uint32_t mtu = want_mtu ? o.Get("mtu").As<Napi::Number>().Uint32Value() : 0;
  std::array<uint8_t, 6> mac;
  if (want_mac && (!parse_mac(o.Get("mac").As<Napi::String>().Utf8Value(), &mac) || (mac[0] & 1)))
    throw_code(env, "EINVAL", name + ": not a unicast MAC address: " + o.Get("mac").ToString().Utf8Value());
  std::vector<std::array<uint8_t, 6>> mc;
  if (o.Has("multicast")) {
    Napi::Array a = o.Get("multicast").As<Napi::Array>();
    for (uint32_t j = 0; j < a.Length(); j++) {
      std::array<uint8_t, 6> m;
      if (!parse_mac(a.Get(j).ToString().Utf8Value(), &m) || !(m[0] & 1))
        throw_code(env, "EINVAL", name + ": not a multicast address: " + a.Get(j).ToString().Utf8Value());
      mc.push_back(m);
    }
  }
  // The interface's settings before this call: what is put back of those the driver does not apply.
  uint32_t old_mtu, old_flags;
  bool old_mac_set;
  std::array<uint8_t, 6> old_mac;
  std::vector<std::array<uint8_t, 6>> old_mc;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = handle_iface(env, n, name, resets);
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    old_mtu = i.mtu;
    old_flags = i.flags;
    old_mac_set = i.mac_set;
    old_mac = i.mac;
    old_mc = i.mc;
    if (want_mtu) {
      // While no registration is live (the shadow keeps the interface), what the last one took: what the replay sets.
      // The last check: nothing is kept before it.
      std::string outside = mtu_outside(k ? k->limits : i.last, mtu);
      if (!outside.empty()) throw_code(env, "EINVAL", name + ": " + outside);
      i.mtu = mtu;
    }
    if (want_mac) {
      i.mac = mac;
      i.mac_set = true;
    }
    if (o.Has("txTimeoutMs")) i.tx_timeout_ms = o.Get("txTimeoutMs").As<Napi::Number>().Uint32Value();
    if (o.Has("promiscuous")) i.flags = o.Get("promiscuous").ToBoolean() ? i.flags | IFF_PROMISC : i.flags & ~IFF_PROMISC;
    if (o.Has("allmulti")) i.flags = o.Get("allmulti").ToBoolean() ? i.flags | IFF_ALLMULTI : i.flags & ~IFF_ALLMULTI;
    if (o.Has("multicast")) {
      if (mc.size() > NETDEV_MC_MAX) {
        mc.clear();  // more than the driver can filter: all multicast, as Linux does
        i.flags |= IFF_ALLMULTI;
      }
      i.mc = mc;
    }
  }
  Domain *d = k ? g_domains[k->domain].load() : nullptr;  // the JavaScript thread's: no unload meanwhile
  Setting stopped = Setting::none;  // the first setting the driver did not apply
  int refused = 0;                  // its answer, if it refused it; else the driver failed
  // Crosses for setting s: whether the driver applied it. ndo_set_rx_mode returns nothing.
  auto apply = [&](Setting s, const OpCall &op, bool answers) {
    Crossed c = class_cross(d, op);
    if (c.ok() && (!answers || c.status() == 0)) return true;
    stopped = s;
    if (c.ok()) refused = c.status();
    return false;
  };
  if (k) {
    bool ok = true;
    if (want_mac && k->ops.has_ndo_set_mac_address()) {
      {
        DomainMemoryAccess access;
        std::lock_guard<std::mutex> g(n.lock);
        if (!k->dead) memcpy(((net_device *)k->dev)->addr_req, n.ifaces[name].mac.data(), 6);
      }
      ok = apply(Setting::mac, k->ops.ndo_set_mac_address(k->dev, k->dev + offsetof(net_device, addr_req)), true);
    }
    if (ok && want_mtu && k->ops.has_ndo_change_mtu()) {
      ok = apply(Setting::mtu, k->ops.ndo_change_mtu(k->dev, mtu), true);
      if (ok) k->mtu = mtu;
    }
    if (ok && want_mode && k->ops.has_ndo_set_rx_mode()) {
      {
        DomainMemoryAccess access;
        std::lock_guard<std::mutex> g(n.lock);
        Iface &i = n.ifaces[name];
        if (!k->dead) {
          auto *dev = (net_device *)k->dev;
          dev->flags = i.flags;
          dev->mc_count = (u32)i.mc.size();
          for (size_t j = 0; j < i.mc.size(); j++) memcpy(dev->mc_list[j], i.mc[j].data(), 6);
        }
      }
      apply(Setting::mode, k->ops.ndo_set_rx_mode(k->dev), false);
    }
  }
  if (d && g_fail_after_configure.erase(name)) recovery_fail(d, FaultKind::segv, "test: netFailAfterConfigure: the driver fails after configure's calls");
  // All applied; or the driver failed (before these calls or in them) and is shadowed: what was recorded above is
  // replayed on the restarted driver's registration, as for the handles' configuration at the failure.
  if (stopped == Setting::none || (!refused && d && shadow_parks(d))) return Napi::Number::New(env, 0);
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = n.ifaces[name];
    // Unless the interface was reset meanwhile (an unshadowed failure detached its handles): its settings went with it.
    if ((double)i.resets == resets) {
      if (stopped <= Setting::mac && want_mac) {
        i.mac_set = old_mac_set;
        i.mac = old_mac;
      }
      if (stopped <= Setting::mtu && want_mtu) i.mtu = old_mtu;
      if (want_mode) {
        i.flags = old_flags;
        i.mc = old_mc;
      }
    }
  }
  if (!refused) throw_failed_meanwhile(env, name, "configuring", d);
  return Napi::Number::New(env, refused);
}

// netFailAfterConfigure(name): test hook (g_fail_after_configure).
Napi::Value NetFailAfterConfigure(const Napi::CallbackInfo &info) {
  g_fail_after_configure.insert(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

// netHoldRegister(name): test hook (hold_register_for_test, net_kapi.cc).
Napi::Value NetHoldRegister(const Napi::CallbackInfo &info) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  n.hold_register.insert(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

// netStats(name, resets): the driver's statistics (refreshed by ndo_get_stats) and the class's counters, for the
// handle opened at reset count `resets`.
Napi::Value NetStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  double resets = info[1].As<Napi::Number>().DoubleValue();
  std::shared_ptr<NetDev> k;
  Counters c;
  size_t queued, held = 0;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = handle_iface(env, n, name, resets);
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    c = i.c;
    queued = i.txq.size();
    if (k)
      for (const SkbSlot &s : k->skbs) held += s.busy;
  }
  Napi::Object o = Napi::Object::New(env);
  if (k && k->ops.has_ndo_get_stats()) call_op(k, k->ops.ndo_get_stats(k->dev));
  if (k) {
    DomainMemoryAccess access;
    std::lock_guard<std::mutex> g(n.lock);
    if (!k->dead) {
      net_device_stats s = ((net_device *)k->dev)->stats;
      Napi::Object d = Napi::Object::New(env);
      const std::pair<const char *, u64> fields[] = {
          {"rxPackets", s.rx_packets}, {"txPackets", s.tx_packets}, {"rxBytes", s.rx_bytes}, {"txBytes", s.tx_bytes},
          {"rxErrors", s.rx_errors}, {"txErrors", s.tx_errors}, {"rxDropped", s.rx_dropped}, {"txDropped", s.tx_dropped},
          {"multicast", s.multicast}, {"collisions", s.collisions}, {"rxMissed", s.rx_missed_errors}, {"txTimeouts", s.tx_timeouts},
          {"hwRxGood", s.hw_rx_good}, {"hwTxGood", s.hw_tx_good}};
      for (auto &f : fields) d.Set(f.first, Napi::Number::New(env, (double)f.second));
      o.Set("driver", d);
    }
  }
  Napi::Object kc = Napi::Object::New(env);
  kc.Set("rxDelivered", Napi::Number::New(env, (double)c.rx_delivered));
  kc.Set("rxDropped", Napi::Number::New(env, (double)c.rx_dropped));
  kc.Set("txQueued", Napi::Number::New(env, (double)c.tx_queued));
  kc.Set("txDropped", Napi::Number::New(env, (double)c.tx_dropped));
  kc.Set("txLost", Napi::Number::New(env, (double)c.tx_lost));
  kc.Set("txBusy", Napi::Number::New(env, (double)c.tx_busy));
  kc.Set("txWaiting", Napi::Number::New(env, (double)queued));
  kc.Set("txHeld", Napi::Number::New(env, (double)held));
  kc.Set("registrations", Napi::Number::New(env, (double)c.registrations));
  o.Set("kernel", kc);
  return o;
}

// The wire of bus device `name`, if it is a network device (through the bus's device interface, dev/device.h).
NicPort *nic_of(const Napi::Value &name) {
  EmulatedDevice *dev = bus_device_named(name.As<Napi::String>().Utf8Value());
  return dev ? dev->nic() : nullptr;
}

// nicWire(device): the emulated NIC's UDP wire and counters, or null if not a NIC.
Napi::Value NicWire(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NicPort *nic = nic_of(info[0]);
  if (!nic) return env.Null();
  auto w = nic->wire();
  Napi::Object o = Napi::Object::New(env);
  o.Set("local", w.local);
  o.Set("peer", w.peer.empty() ? env.Null() : Napi::String::New(env, w.peer));
  o.Set("link", Napi::Boolean::New(env, w.link));
  o.Set("framesSent", Napi::Number::New(env, (double)w.frames_sent));
  o.Set("framesReceived", Napi::Number::New(env, (double)w.frames_received));
  o.Set("framesDropped", Napi::Number::New(env, (double)w.frames_dropped));
  return o;
}

// nicCable(device, up): plugs or pulls the emulated NIC's cable.
Napi::Value NicCable(const Napi::CallbackInfo &info) {
  NicPort *nic = nic_of(info[0]);
  if (nic) nic->set_cable(info[1].ToBoolean());
  return Napi::Boolean::New(info.Env(), nic != nullptr);
}

// nicHangTx(device): test hook: the emulated NIC's transmitter hangs.
Napi::Value NicHangTx(const Napi::CallbackInfo &info) {
  NicPort *nic = nic_of(info[0]);
  if (nic) nic->hang_tx();
  return Napi::Boolean::New(info.Env(), nic != nullptr);
}

#include "addon/net.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace
}  // namespace net_class
}  // namespace nooks

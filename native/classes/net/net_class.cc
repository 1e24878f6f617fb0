// The net class, kernel side: the interfaces network drivers register, their
// transmit queues and socket buffers, received frames on their way to
// JavaScript, and the N-API functions behind lib/classes/net.ts.
//
// Design (see <nooks/netdevice.h> for the driver's view):
//  - An interface is registered by its driver (register_netdev) for a pci_dev
//    it holds. Its name (eth0, eth1...) belongs to the device: a driver that
//    registers again after a recovery gets the same name. The kernel allocates
//    its socket buffers (struct sk_buff + data) in one block of the driver's
//    DMA memory inside the kernel call, and tracks the registration as a
//    netdev object whose release (recovery) forgets the buffers in flight.
//  - Per name the kernel keeps what applications asked for (open or not, MTU,
//    MAC address, promiscuous/allmulti, the multicast list) and the frames
//    waiting to be sent. When a driver registers the name again after a
//    failure, that configuration is replayed and the interface reopened
//    before the waiting frames go out: applications keep their handles (the
//    shadow driver's job, for the net class: frames in flight are lost, as
//    on a wire). Without a shadow (native/shadow) a failure resets the
//    interface instead: its handles are detached (their next call fails with
//    the reason), the configuration and the waiting frames are dropped, and
//    applications must open it again; the same happens to a shadowed
//    interface whose driver the agent gives up on.
//  - Transmit: only the JS thread submits. netSend queues a batch of frames;
//    pump() copies up to NOOKS_BATCH_MAX of them into free socket buffers and
//    hands them to ndo_start_xmit in one crossing (deferred calls), with
//    skb->xmit_more set on all but the last so the driver rings the device's
//    doorbell once per batch. NETDEV_TX_BUSY puts a frame back at the head of
//    the queue until the driver frees a buffer (dev_kfree_skb_any).
//  - Receive: netif_rx (from the driver's poll, on a kernel thread) copies the
//    frame into a queue and kicks one thread-safe function (a non-blocking
//    call: a driver thread never waits for JS); its callback hands JS every
//    frame waiting, per interface, in one call.
//  - Lock order: the mprotect lock (DomainMemoryAccess, or being inside a
//    crossing), then Net::lock. The JS thread never crosses into a driver or
//    waits for the mprotect lock while holding Net::lock.
#include <napi.h>

#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nooks/kapi.h>
#include <nooks/netdevice.h>

#include "../../addon.h"
#include "../../dev/bus.h"
#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../shadow/taps.h"
#include "e1000_model.h"

namespace nooks {
namespace {

constexpr size_t kTxQueueMax = 8192;  // frames waiting per interface
constexpr size_t kRxQueueMax = 8192;  // frames waiting for JS, all interfaces

struct SkbSlot {
  sk_buff *skb = nullptr;  // in the driver's DMA memory
  void *data = nullptr;
  dma_addr_t dma = 0;
  bool busy = false;
  uint64_t since = 0;  // jiffies when the driver got it
};

// One registration of an interface by a driver.
struct NetDev {
  int domain;
  uintptr_t dev;  // the driver's struct net_device
  NetDeviceOps ops;  // the driver's, reachable only through taps
  std::string name;
  std::vector<void *> pools;  // DMA memory: the sk_buffs, then their data buffers
  size_t buf_size = 0;
  std::vector<SkbSlot> skbs;
  uint32_t max_mtu = ETH_DATA_LEN, min_mtu = 68;
  std::atomic<uint32_t> mtu{ETH_DATA_LEN};
  uint32_t watchdog_ms = 5000;  // dev->watchdog_timeo  // as last set (the longest frame sent is mtu + 18: header and a VLAN tag)
  bool dead = false;
  bool opened = false;  // ndo_open succeeded
  bool carrier = false;
};

struct Counters {
  uint64_t rx_delivered = 0, rx_dropped = 0, tx_queued = 0, tx_dropped = 0, tx_lost = 0, tx_busy = 0, registrations = 0;
};

// An interface name and what applications asked of it: survives its drivers.
struct Iface {
  std::string name, device;
  int users = 0;  // open handles
  uint32_t mtu = 0;  // 0: the driver's
  uint32_t tx_timeout_ms = 0;  // 0: the driver's watchdog_timeo
  bool mac_set = false;
  std::array<uint8_t, 6> mac{};
  uint32_t flags = 0;
  std::vector<std::array<uint8_t, 6>> mc;
  std::deque<std::vector<uint8_t>> txq;
  std::shared_ptr<NetDev> dev;  // the live registration, if any
  bool replay = false;          // a new registration waits for the configuration and open
  int last_domain = -1;
  Counters c;
};

struct RxFrame {
  std::string iface;
  std::vector<uint8_t> data;
};

struct Net {
  std::mutex lock;
  std::map<std::string, Iface> ifaces;           // by name
  std::map<std::string, std::string> by_device;  // device name -> interface name
  int next_eth = 0;
  std::vector<RxFrame> rx;
  std::vector<std::pair<std::string, bool>> link_events;  // every change, in order
  std::vector<std::pair<std::string, std::string>> detach_events;  // interface, why
  bool kicked = false;
  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference deliver;
  bool refd = false;
};
Net &net() {
  static Net *n = new Net;  // never destroyed: driver threads may deliver during exit
  return *n;
}

void on_kick(Napi::Env env);

void kick(Net &n) {  // with n.lock held
  if (n.kicked || !n.tsfn) return;
  n.kicked = true;
  n.tsfn.NonBlockingCall([](Napi::Env env, Napi::Function) { on_kick(env); });
}

Iface *iface_of(Net &n, int domain, uintptr_t dev) {
  for (auto &e : n.ifaces)
    if (e.second.dev && e.second.dev->domain == domain && e.second.dev->dev == dev) return &e.second;
  return nullptr;
}

// With n.lock held: the registration is gone (unregistered or its driver failed).
void netdev_gone(Net &n, Iface &i) {
  std::shared_ptr<NetDev> k = i.dev;
  if (!k) return;
  k->dead = true;
  for (SkbSlot &s : k->skbs)
    if (s.busy) {
      s.busy = false;
      i.c.tx_lost++;
    }
  i.dev.reset();
  i.replay = false;
  if (k->carrier) n.link_events.emplace_back(i.name, false);
  kick(n);
}

// With n.lock held: applications lose the interface: their handles are
// detached with `why`, what they configured and queued is dropped.
void detach(Net &n, Iface &i, const std::string &why) {
  if (!i.users) return;
  i.users = 0;
  i.mtu = i.tx_timeout_ms = i.flags = 0;
  i.mac_set = false;
  i.mc.clear();
  i.c.tx_dropped += i.txq.size();
  i.txq.clear();
  i.replay = false;
  n.detach_events.emplace_back(i.name, why);
  kick(n);
}

ObjectRelease release(ObjectType::netdev, [](Domain *d, const Object &o) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Iface *i = iface_of(n, d->id, o.key);
  if (!i) return;
  netdev_gone(n, *i);
  if (shadow_parks(d)) {
    klog(4, "net: %s: driver %s failed: shadowed: frames in flight are lost, waiting ones stay queued", i->name.c_str(), d->name.c_str());
    return;
  }
  klog(4, "net: %s: driver %s failed: not shadowed: the interface is reset", i->name.c_str(), d->name.c_str());
  detach(n, *i, i->name + ": the driver (" + d->name + ") failed: the interface was reset; open it again");
});

// The agent gave up on a shadowed driver (or it was unloaded): its interfaces' handles are detached.
ShadowGiveUp give_up([](Domain *d, const std::string &why) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  for (auto &e : n.ifaces)
    if (e.second.last_domain == d->id && !e.second.dev) detach(n, e.second, e.first + ": the driver failed and will not be restarted: " + why);
});

// ---- calls into the driver (JS thread) ---------------------------------------

// Calls an operation of the interface's driver; -ENODEV if it has none now.
int64_t call_op(const std::shared_ptr<NetDev> &k, const OpCall &op) {
  Domain *d = g_domains[k->domain];
  if (!d) return -ENODEV;
  uint64_t ret = 0;
  Fault f;
  EnterResult r = op_cross(d, op, &f, &ret);
  if (r == EnterResult::fault) {
    recovery_notify(d, f);  // the recovery thread tears it down and tells the agent
    return -EIO;
  }
  if (r != EnterResult::ok) return -ENODEV;
  return (int64_t)(int)ret;
}

// The registration of `name` if alive.
std::shared_ptr<NetDev> live(const std::string &name) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  auto it = n.ifaces.find(name);
  if (it == n.ifaces.end() || !it->second.dev || it->second.dev->dead) return nullptr;
  return it->second.dev;
}

// Writes the configuration the applications set into the driver's net_device
// and calls the operations that apply it. 0 or the first error.
int apply_config(const std::string &name, const std::shared_ptr<NetDev> &k) {
  Net &n = net();
  uint32_t mtu, flags;
  bool mac_set;
  std::array<uint8_t, 6> mac;
  std::vector<std::array<uint8_t, 6>> mc;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = n.ifaces[name];
    mtu = i.mtu;
    flags = i.flags;
    mac_set = i.mac_set;
    mac = i.mac;
    mc = i.mc;
  }
  int err = 0;
  if (mac_set && k->ops.has_ndo_set_mac_address()) {
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead) return -ENODEV;
      memcpy(((net_device *)k->dev)->addr_req, mac.data(), 6);
    }
    int r = (int)call_op(k, k->ops.ndo_set_mac_address(k->dev, k->dev + offsetof(net_device, addr_req)));
    if (r && !err) err = r;
  }
  if (mtu && k->ops.has_ndo_change_mtu()) {
    int r = (int)call_op(k, k->ops.ndo_change_mtu(k->dev, mtu));
    if (r && !err) err = r;
    if (!r) k->mtu = mtu;
  }
  if (k->ops.has_ndo_set_rx_mode()) {
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead) return -ENODEV;
      auto *dev = (net_device *)k->dev;
      dev->flags = flags;
      dev->mc_count = (u32)mc.size();
      for (size_t j = 0; j < mc.size(); j++) memcpy(dev->mc_list[j], mc[j].data(), 6);
    }
    call_op(k, k->ops.ndo_set_rx_mode(k->dev));
  }
  return err;
}

int open_dev(const std::string &name, const std::shared_ptr<NetDev> &k) {
  if (k->opened) return 0;
  int r = apply_config(name, k);
  if (r == -ENODEV || r == -EIO) return r;
  r = (int)call_op(k, k->ops.ndo_open(k->dev));
  if (r == 0) {
    Net &n = net();
    std::lock_guard<std::mutex> g(n.lock);
    if (!k->dead) k->opened = true;
  }
  return r;
}

// Hands waiting frames of interface `name` to its driver, a batch per crossing,
// until no socket buffer is free, the driver is busy, or nothing waits.
void pump(const std::string &name) {
  Net &n = net();
  for (;;) {
    std::shared_ptr<NetDev> k;
    std::vector<size_t> taken;
    std::vector<std::vector<uint8_t>> frames;
    {
      std::lock_guard<std::mutex> g(n.lock);
      auto it = n.ifaces.find(name);
      if (it == n.ifaces.end()) return;
      Iface &i = it->second;
      k = i.dev;
      if (!k || k->dead || !k->opened || i.replay || i.txq.empty()) return;
      for (size_t s = 0; s < k->skbs.size() && taken.size() < NOOKS_BATCH_MAX && !i.txq.empty(); s++) {
        if (k->skbs[s].busy) continue;
        k->skbs[s].busy = true;
        k->skbs[s].since = jiffies_now();
        taken.push_back(s);
        frames.push_back(std::move(i.txq.front()));
        i.txq.pop_front();
      }
      if (taken.empty()) return;
    }
    Domain *d = g_domains[k->domain];
    auto requeue = [&](size_t from) {  // with n.lock held: frames[from..] back at the head, in order
      Iface &i = n.ifaces[name];
      for (size_t j = frames.size(); j-- > from;) i.txq.push_front(std::move(frames[j]));
    };
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead || !d) {
        requeue(0);
        continue;
      }
      for (size_t j = 0; j < taken.size(); j++) {
        SkbSlot &s = k->skbs[taken[j]];
        memcpy(s.data, frames[j].data(), frames[j].size());
        s.skb->data = s.data;
        s.skb->dma = s.dma;
        s.skb->len = (u32)frames[j].size();
        s.skb->xmit_more = j + 1 < taken.size();
        s.skb->driver_data = nullptr;
      }
    }
    std::vector<OpCall> calls;
    for (size_t j = 0; j < taken.size(); j++) calls.push_back(k->ops.ndo_start_xmit((uintptr_t)k->skbs[taken[j]].skb, k->dev));
    BatchResult r = op_cross_batch(d, calls);
    bool stop = r.result != EnterResult::ok;
    {
      std::lock_guard<std::mutex> g(n.lock);
      Iface &i = n.ifaces[name];
      std::vector<std::vector<uint8_t>> back;  // refused, or never offered: to the head of the queue, in order
      size_t j = 0;
      for (; j < taken.size() && j < r.rets.size(); j++) {
        int ret = (int)r.rets[j];
        if (ret == NETDEV_TX_OK) {
          i.c.tx_queued++;
          continue;
        }
        if (!k->dead) k->skbs[taken[j]].busy = false;
        if (ret == NETDEV_TX_BUSY) {
          i.c.tx_busy++;
          stop = true;
          // this frame and the rest go back; the rest were never offered (the batch ran them though: they were
          // refused too, or accepted: count those)
          back.push_back(std::move(frames[j]));
          for (size_t m = j + 1; m < taken.size() && m < r.rets.size(); m++) {
            if ((int)r.rets[m] == NETDEV_TX_OK) {
              i.c.tx_queued++;
            } else {
              if (!k->dead) k->skbs[taken[m]].busy = false;
              back.push_back(std::move(frames[m]));
            }
          }
          j = r.rets.size();
          break;
        }
        i.c.tx_dropped++;  // the driver refused it
      }
      // the frames the batch did not run: after a fault the first of them faulted the driver, which had it (in
      // flight: its buffer is counted lost when the registration goes, netdev_gone); the driver never saw the
      // others: they wait for the restarted driver
      for (size_t m = r.result == EnterResult::fault ? j + 1 : j; m < taken.size(); m++) {
        if (!k->dead) k->skbs[taken[m]].busy = false;
        back.push_back(std::move(frames[m]));
      }
      for (size_t b = back.size(); b-- > 0;) i.txq.push_front(std::move(back[b]));
    }
    if (r.result == EnterResult::fault) {
      recovery_notify(d, r.fault);
      return;
    }
    if (stop) return;
  }
}

// ---- N-API -----------------------------------------------------------------

void set_ref(Napi::Env env, Net &n) {
  bool want = false;
  {
    std::lock_guard<std::mutex> g(n.lock);
    for (auto &e : n.ifaces) want |= e.second.users > 0;
  }
  if (want == n.refd || !n.tsfn) return;
  if (want) n.tsfn.Ref(env);
  else n.tsfn.Unref(env);
  n.refd = want;
}

// The thread-safe function's callback: replay configuration to re-registered
// interfaces, send what waits, deliver received frames and link changes.
void on_kick(Napi::Env env) {
  Net &n = net();
  std::vector<std::string> replay, names;
  {
    std::lock_guard<std::mutex> g(n.lock);
    n.kicked = false;
    for (auto &e : n.ifaces) {
      if (e.second.replay && e.second.dev) replay.push_back(e.first);
      if (!e.second.txq.empty()) names.push_back(e.first);
    }
  }
  for (const std::string &name : replay) {
    std::shared_ptr<NetDev> k = live(name);
    if (!k) continue;
    int r = open_dev(name, k);
    {
      std::lock_guard<std::mutex> g(n.lock);
      n.ifaces[name].replay = false;
    }
    if (r) klog(4, "net: %s: reopening after the driver came back failed (%d)", name.c_str(), r);
    else klog(6, "net: %s: configuration replayed and reopened", name.c_str());
    names.push_back(name);
  }
  for (const std::string &name : names) pump(name);
  std::vector<RxFrame> rx;
  std::vector<std::pair<std::string, bool>> links;
  std::vector<std::pair<std::string, std::string>> detached;
  {
    std::lock_guard<std::mutex> g(n.lock);
    rx.swap(n.rx);
    links.swap(n.link_events);
    detached.swap(n.detach_events);
  }
  if (!detached.empty()) set_ref(env, n);  // detached handles no longer keep the process alive
  if ((rx.empty() && links.empty() && detached.empty()) || n.deliver.IsEmpty()) return;
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
    ev.Set("iface", x.first);
    ev.Set("detached", x.second);
    events.Set(k++, ev);
  }
  n.deliver.Call({events});
}

std::string mac_string(const uint8_t *m) {
  char b[18];
  snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

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

// netInit(deliver): deliver([{ iface, frames?: Buffer[], link?: boolean, detached?: why }, ...]).
Napi::Value Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  n.deliver = Napi::Persistent(info[0].As<Napi::Function>());
  if (!n.tsfn) {
    Napi::ThreadSafeFunction t =
        Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}), "nooks-net", 0, 1);
    t.Unref(env);
    std::lock_guard<std::mutex> g(n.lock);
    n.tsfn = t;
  }
  return env.Undefined();
}

// netInfo(name): the interface, or null if no such name.
Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  Napi::Object o = Napi::Object::New(env);
  {
    std::lock_guard<std::mutex> g(n.lock);
    auto it = n.ifaces.find(name);
    if (it == n.ifaces.end()) return env.Null();
    Iface &i = it->second;
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    o.Set("name", i.name);
    o.Set("device", i.device);
    o.Set("registered", Napi::Boolean::New(env, (bool)k));
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
Napi::Value List(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Napi::Array a = Napi::Array::New(env);
  uint32_t j = 0;
  for (auto &e : n.ifaces) a.Set(j++, e.first);
  return a;
}

// netOpen(name): one more user; opens the interface (ndo_open) for the first.
Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    if (!i.dev || i.dev->dead) throw_code(env, "ENOTREADY", name + ": not ready: its driver has not registered it");
    k = i.dev;
  }
  int r = open_dev(name, k);
  if (r) throw_code(env, r == -ENODEV ? "ENOTREADY" : "EIO", name + ": opening failed (ndo_open: error " + std::to_string(r) + ")");
  {
    std::lock_guard<std::mutex> g(n.lock);
    n.ifaces[name].users++;
  }
  set_ref(env, n);
  return env.Undefined();
}

// netClose(name): one user less; the last stops the interface (ndo_stop). Waiting frames are dropped.
Napi::Value Close(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    if (i.users > 0 && --i.users == 0) {
      i.c.tx_dropped += i.txq.size();
      i.txq.clear();
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

// netSend(name, frames: Buffer[]): queues the frames and starts sending; how many were queued.
Napi::Value Send(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Array frames = info[1].As<Napi::Array>();
  uint32_t count = frames.Length(), queued = 0;
  std::vector<std::vector<uint8_t>> copies;
  copies.reserve(count);
  size_t max;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    if (!i.users) throw_code(env, "ECLOSED", name + ": not open");
    max = i.dev ? std::min<size_t>(i.dev->mtu + ETH_HLEN + 4, i.dev->buf_size) : ETH_FRAME_MAX;
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
    Iface &i = n.ifaces[name];
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

// netConfigure(name, { mtu?, mac?, promiscuous?, allmulti?, multicast? }): kept for the
// interface (replayed after a recovery) and applied now if a driver has it. 0 or -errno.
Napi::Value Configure(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = info[1].As<Napi::Object>();
  std::shared_ptr<NetDev> k;
  bool want_mtu = o.Has("mtu"), want_mac = o.Has("mac"), want_mode = o.Has("promiscuous") || o.Has("allmulti") || o.Has("multicast");
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    if (want_mtu) {
      uint32_t mtu = o.Get("mtu").As<Napi::Number>().Uint32Value();
      if (k && (mtu < k->min_mtu || mtu > k->max_mtu))
        throw_code(env, "EINVAL", name + ": MTU " + std::to_string(mtu) + " outside " + std::to_string(k->min_mtu) + ".." + std::to_string(k->max_mtu));
      i.mtu = mtu;
    }
    if (want_mac) {
      std::array<uint8_t, 6> m;
      if (!parse_mac(o.Get("mac").As<Napi::String>().Utf8Value(), &m) || (m[0] & 1))
        throw_code(env, "EINVAL", name + ": not a unicast MAC address: " + o.Get("mac").ToString().Utf8Value());
      i.mac = m;
      i.mac_set = true;
    }
    if (o.Has("txTimeoutMs")) i.tx_timeout_ms = o.Get("txTimeoutMs").As<Napi::Number>().Uint32Value();
    if (o.Has("promiscuous")) i.flags = o.Get("promiscuous").ToBoolean() ? i.flags | IFF_PROMISC : i.flags & ~IFF_PROMISC;
    if (o.Has("allmulti")) i.flags = o.Get("allmulti").ToBoolean() ? i.flags | IFF_ALLMULTI : i.flags & ~IFF_ALLMULTI;
    if (o.Has("multicast")) {
      Napi::Array a = o.Get("multicast").As<Napi::Array>();
      std::vector<std::array<uint8_t, 6>> mc;
      for (uint32_t j = 0; j < a.Length(); j++) {
        std::array<uint8_t, 6> m;
        if (!parse_mac(a.Get(j).ToString().Utf8Value(), &m) || !(m[0] & 1))
          throw_code(env, "EINVAL", name + ": not a multicast address: " + a.Get(j).ToString().Utf8Value());
        mc.push_back(m);
      }
      if (mc.size() > NETDEV_MC_MAX) {
        mc.clear();  // more than the driver can filter: all multicast, as Linux does
        i.flags |= IFF_ALLMULTI;
      }
      i.mc = mc;
    }
  }
  int r = 0;
  if (k) {
    if (want_mac && k->ops.has_ndo_set_mac_address()) {
      {
        DomainMemoryAccess access;
        std::lock_guard<std::mutex> g(n.lock);
        if (!k->dead) memcpy(((net_device *)k->dev)->addr_req, n.ifaces[name].mac.data(), 6);
      }
      r = (int)call_op(k, k->ops.ndo_set_mac_address(k->dev, k->dev + offsetof(net_device, addr_req)));
    }
    if (!r && want_mtu && k->ops.has_ndo_change_mtu()) {
      uint32_t mtu = n.ifaces[name].mtu;
      r = (int)call_op(k, k->ops.ndo_change_mtu(k->dev, mtu));
      if (!r) k->mtu = mtu;
    }
    if (!r && want_mode && k->ops.has_ndo_set_rx_mode()) {
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
      call_op(k, k->ops.ndo_set_rx_mode(k->dev));
    }
  }
  return Napi::Number::New(env, r);
}

// netStats(name): the driver's statistics (refreshed by ndo_get_stats) and the class's counters.
Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NetDev> k;
  Counters c;
  size_t queued;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface &i = iface_or_throw(env, n, name);
    k = i.dev && !i.dev->dead ? i.dev : nullptr;
    c = i.c;
    queued = i.txq.size();
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
  kc.Set("registrations", Napi::Number::New(env, (double)c.registrations));
  o.Set("kernel", kc);
  return o;
}

int device_index(const std::string &name) {
  for (const DeviceInfo &d : bus_devices())
    if (d.name == name) return d.index;
  return -1;
}

// nicWire(device): the emulated NIC's UDP wire and counters, or null if not an e1000.
Napi::Value Wire(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  NicWire w;
  if (!e1000_wire(device_index(info[0].As<Napi::String>().Utf8Value()), &w)) return env.Null();
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
Napi::Value Cable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bool ok = e1000_set_cable(device_index(info[0].As<Napi::String>().Utf8Value()), info[1].ToBoolean());
  return Napi::Boolean::New(env, ok);
}

// netWatchdog(): the transmit watchdog, run periodically by lib/classes/net.ts
// while interfaces are open: an interface whose oldest socket buffer has been
// with the driver longer than its timeout gets ndo_tx_timeout. How many fired.
Napi::Value Watchdog(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Net &n = net();
  std::vector<std::shared_ptr<NetDev>> stuck;
  {
    std::lock_guard<std::mutex> g(n.lock);
    uint64_t now = jiffies_now();
    for (auto &e : n.ifaces) {
      std::shared_ptr<NetDev> k = e.second.dev;
      if (!k || k->dead || !k->opened || !k->ops.has_ndo_tx_timeout()) continue;
      uint64_t limit = e.second.tx_timeout_ms ? e.second.tx_timeout_ms : k->watchdog_ms;
      bool late = false;
      for (SkbSlot &s : k->skbs) late |= s.busy && now - s.since > limit;
      if (!late) continue;
      for (SkbSlot &s : k->skbs) s.since = now;  // once per timeout
      klog(4, "net: %s: transmit timed out (a frame with the driver for more than %lu ms)", e.first.c_str(), (unsigned long)limit);
      stuck.push_back(k);
    }
  }
  for (auto &k : stuck) call_op(k, k->ops.ndo_tx_timeout(k->dev, 0));
  for (auto &k : stuck) pump(k->name);  // frames still waiting go to the reset transmitter
  return Napi::Number::New(env, (double)stuck.size());
}

// nicHangTx(device): test hook: the emulated NIC's transmitter hangs.
Napi::Value HangTx(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), e1000_hang_tx(device_index(info[0].As<Napi::String>().Utf8Value())));
}

AddonExports exports([](Napi::Env env, Napi::Object e) {
  e.Set("netWatchdog", Napi::Function::New(env, Watchdog));
  e.Set("nicHangTx", Napi::Function::New(env, HangTx));
  e.Set("netInit", Napi::Function::New(env, Init));
  e.Set("netInfo", Napi::Function::New(env, Info));
  e.Set("netList", Napi::Function::New(env, List));
  e.Set("netOpen", Napi::Function::New(env, Open));
  e.Set("netClose", Napi::Function::New(env, Close));
  e.Set("netSend", Napi::Function::New(env, Send));
  e.Set("netConfigure", Napi::Function::New(env, Configure));
  e.Set("netStats", Napi::Function::New(env, Stats));
  e.Set("nicWire", Napi::Function::New(env, Wire));
  e.Set("nicCable", Napi::Function::New(env, Cable));
});

}  // namespace
}  // namespace nooks

// ---- the kernel calls (lib/wrappers/kapi/net.ts) -----------------------------
using namespace nooks;


extern "C" int kapi_register_netdev(void *p) {
  Domain *d = calling_domain();
  auto *dev = static_cast<net_device *>(p);
  check_object(d, (uintptr_t)dev->pdev, ObjectType::pci_dev, false, "register_netdev", "dev->pdev");
  NetDeviceOps ops;
  ops.take(d, dev->netdev_ops, "register_netdev");
  uint32_t max_mtu = dev->max_mtu ? dev->max_mtu : ETH_DATA_LEN, min_mtu = dev->min_mtu ? dev->min_mtu : 68;
  if (!dev->mtu) dev->mtu = ETH_DATA_LEN;
  if (min_mtu > dev->mtu || dev->mtu > max_mtu || max_mtu > ETH_FRAME_MAX - ETH_HLEN - 4) return -EINVAL;
  std::string device = dev->pdev->dev.name;
  Net &n = net();
  {
    std::lock_guard<std::mutex> g(n.lock);
    if (iface_of(n, d->id, (uintptr_t)dev)) return -EBUSY;
    auto b = n.by_device.find(device);
    if (b != n.by_device.end() && n.ifaces[b->second].dev) return -EBUSY;  // the device has an interface
  }
  size_t buf = ((size_t)max_mtu + ETH_HLEN + 4 + 63) & ~(size_t)63;
  if (buf < 2048) buf = 2048;
  // Data buffers in pieces the device sees contiguous (UIO: one hugepage each).
  size_t per = std::min<size_t>(NETDEV_TX_SKBS, dma_contiguous_max(d) / buf);
  auto k = std::make_shared<NetDev>();
  dma_addr_t bus = 0;
  void *skbs = kapi_dma_alloc_coherent(nullptr, NETDEV_TX_SKBS * sizeof(sk_buff), &bus, GFP_KERNEL);
  if (skbs) k->pools.push_back(skbs);
  for (size_t i = 0; skbs && per && i < NETDEV_TX_SKBS; i += per) {
    SkbSlot s;
    char *data = (char *)kapi_dma_alloc_coherent(nullptr, std::min(per, NETDEV_TX_SKBS - i) * buf, &bus, GFP_KERNEL);
    if (!data) break;
    k->pools.push_back(data);
    for (size_t j = 0; j < per && i + j < NETDEV_TX_SKBS; j++) {
      s.skb = (sk_buff *)skbs + i + j;
      s.data = data + j * buf;
      s.dma = bus + j * buf;
      k->skbs.push_back(s);
    }
  }
  if (k->skbs.size() < NETDEV_TX_SKBS) {
    for (void *p : k->pools) kapi_dma_free_coherent(nullptr, 0, p, 0);
    return -ENOMEM;
  }
  k->domain = d->id;
  k->dev = (uintptr_t)dev;
  k->ops = ops;
  k->buf_size = buf;
  k->max_mtu = max_mtu;
  k->min_mtu = min_mtu;
  k->mtu = dev->mtu;
  k->watchdog_ms = dev->watchdog_timeo ? dev->watchdog_timeo : 5000;
  std::string name;
  {
    std::lock_guard<std::mutex> g(n.lock);
    auto b = n.by_device.find(device);
    if (b == n.by_device.end()) {
      name = "eth" + std::to_string(n.next_eth++);
      n.by_device[device] = name;
    } else {
      name = b->second;
    }
    Iface &i = n.ifaces[name];
    i.name = name;
    i.device = device;
    i.dev = k;
    i.last_domain = d->id;
    i.c.registrations++;
    k->name = name;
    if (i.users > 0) {  // applications have it open: reopen it with their configuration (JS thread)
      i.replay = true;
      kick(n);
    }
  }
  snprintf(dev->name, IFNAMSIZ, "%s", name.c_str());
  d->objects.add({ObjectType::netdev, (uintptr_t)dev, sizeof *dev, 0, name});
  klog(6, "net: %s: registered for %s by %s, MAC %s, MTU %u", name.c_str(), device.c_str(), d->name.c_str(),
       mac_string(dev->dev_addr).c_str(), dev->mtu);
  return 0;
}

extern "C" void kapi_unregister_netdev(void *p) {
  Domain *d = calling_domain();
  auto *dev = static_cast<net_device *>(p);
  Net &n = net();
  std::shared_ptr<NetDev> k;
  {
    std::lock_guard<std::mutex> g(n.lock);
    Iface *i = iface_of(n, d->id, (uintptr_t)dev);
    if (i) k = i->dev;
  }
  if (k && k->opened) {  // a nested crossing: a fault in it unwinds to the driver's outermost entry
    Fault f;
    op_cross(d, k->ops.ndo_stop(k->dev), &f);
  }
  {
    std::lock_guard<std::mutex> g(n.lock);
    if (Iface *i = iface_of(n, d->id, (uintptr_t)dev)) netdev_gone(n, *i);
  }
  d->objects.remove(ObjectType::netdev, (uintptr_t)dev);
  if (k)
    for (void *p : k->pools) kapi_dma_free_coherent(nullptr, 0, p, 0);
}

extern "C" int kapi_netif_rx(void *p, const void *data, size_t len) {
  Domain *d = calling_domain();
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Iface *i = iface_of(n, d->id, (uintptr_t)p);
  if (!i || !i->users || !i->dev->opened || n.rx.size() >= kRxQueueMax) {
    if (i) i->c.rx_dropped++;
    return -ENOSPC;
  }
  const auto *b = static_cast<const uint8_t *>(data);
  n.rx.push_back({i->name, std::vector<uint8_t>(b, b + len)});
  i->c.rx_delivered++;
  kick(n);
  return 0;
}

extern "C" void kapi_dev_kfree_skb_any(void *p) {
  Domain *d = calling_domain();
  Net &n = net();
  bool found = false;
  {
    std::lock_guard<std::mutex> g(n.lock);
    for (auto &e : n.ifaces) {
      std::shared_ptr<NetDev> k = e.second.dev;
      if (!k || k->domain != d->id) continue;
      auto *skb = static_cast<sk_buff *>(p);
      if (skb < k->skbs.front().skb || skb > k->skbs.back().skb) continue;
      SkbSlot &s = k->skbs[(size_t)(skb - k->skbs.front().skb)];
      if (s.skb != skb || !s.busy) break;
      s.busy = false;
      found = true;
      if (!e.second.txq.empty()) kick(n);  // frames wait for a buffer
      break;
    }
  }
  if (!found) kernel_bug(d, "dev_kfree_skb_any(%p): not a socket buffer the driver holds", p);
}

static void carrier(void *p, bool on) {
  Domain *d = calling_domain();
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Iface *i = iface_of(n, d->id, (uintptr_t)p);
  if (!i || i->dev->carrier == on) return;
  i->dev->carrier = on;
  n.link_events.emplace_back(i->name, on);
  klog(6, "net: %s: link %s", i->name.c_str(), on ? "up" : "down");
  kick(n);
}

extern "C" void kapi_netif_carrier_on(void *p) { carrier(p, true); }
extern "C" void kapi_netif_carrier_off(void *p) { carrier(p, false); }

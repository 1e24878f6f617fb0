// The net class's core: the interfaces drivers register, parking them for
// the shadow (or detaching their handles), and the calls into the drivers:
// configuration, open, transmit and the transmit watchdog. See net_core.h.
#include "net_core.h"

#include <cstring>

#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../trap/trap.h"
#include "../common/cross.h"

namespace nooks {
namespace net_class {

Net &net() {
  static Net *n = new Net;  // never destroyed: driver threads may deliver during exit
  return *n;
}

Iface *iface_of(Net &n, int domain, uintptr_t dev) {
  for (auto &e : n.ifaces)
    if (e.second.dev && e.second.dev->domain == domain && e.second.dev->dev == dev) return &e.second;
  return nullptr;
}

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
  n.js.kick();
}

void forget_config(Iface &i) {
  i.mtu = i.tx_timeout_ms = i.flags = 0;
  i.mac_set = false;
  i.mc.clear();
}

void detach(Net &n, Iface &i, const std::string &code, const std::string &why, const DriverFailure &failure) {
  if (!i.users) return;
  i.users = 0;
  i.resets++;
  forget_config(i);
  i.c.tx_dropped += i.txq.size();
  i.txq.clear();
  i.replay = false;
  i.reset_code = code;
  i.reset_why = why;
  i.reset_failure = failure;
  n.detach_events.push_back({i.name, code, why, i.resets, failure});
  n.js.kick();
}

namespace {

// The shadow (native/shadow) for interfaces: a shadowed driver's interface keeps its handles, configuration and
// waiting frames (those in flight are lost); otherwise the interface is reset and its handles are detached.
bool park_iface(Domain *d, const Object &o) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Iface *i = iface_of(n, d->id, o.key);
  if (!i) return true;
  netdev_gone(n, *i);
  i->ticket = shadow_kept(ObjectType::netdev, i->name, *d);
  klog(4, "net: %s: driver %s failed: shadowed: frames in flight are lost, waiting ones stay queued", i->name.c_str(), d->name.c_str());
  return true;
}

// With n.lock held: d failed, not shadowed: i, whose registration is gone, is reset under its handles (what the
// agent decides for d, lib/classes/net.ts adds).
void reset_iface(Net &n, Iface &i, const Domain &d) {
  klog(4, "net: %s: driver %s failed: not shadowed: the interface is reset", i.name.c_str(), d.name.c_str());
  detach(n, i, "EDRIVERFAILED", i.name + ": the interface was reset: its driver (" + d.name + ") failed", failure_of(d));
}

void drop_iface(Domain *d, const Object &o) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  Iface *i = iface_of(n, d->id, o.key);
  if (!i) return;
  netdev_gone(n, *i);
  reset_iface(n, *i, *d);
}

// The shadow ends the parked interface (its driver will not come back, or runs without it): its handles are detached.
void end_iface(const std::string &name, uint64_t ticket, const Ending &why) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  auto it = n.ifaces.find(name);
  if (it == n.ifaces.end() || it->second.ticket != ticket) return;  // registered again, or parked again, since
  it->second.ticket = 0;
  Ended ended{why.code("EDRIVERFAILED"), why.message(name)};
  shadow_record_end(ObjectType::netdev, name, ended);  // an open's error, till it is registered again
  detach(n, it->second, ended.code, ended.message);
}

// d's load will not come back: handles on an interface it registered last and unregistered itself (at its
// unload's module_exit, or while running) are detached, and its opens fail alike till a driver registers it
// again; nothing was waiting for its return on their behalf. (One kept for it that the ledger did not end is
// too: kept by iface_failed as the give-up began.) One without handles is left alone: nothing ends.
void iface_driver_gone(const Domain &d, const std::string &why) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  for (auto &e : n.ifaces) {
    Iface &i = e.second;
    if (i.last_serial != d.serial || i.dev || (!i.users && !i.ticket)) continue;
    if (i.ticket) shadow_forget(i.ticket);
    i.ticket = 0;
    Ended ended{"ENODEV", e.first + ": its driver is gone (" + why + ")"};
    shadow_record_end(ObjectType::netdev, e.first, ended);
    detach(n, i, ended.code, ended.message);
  }
}

// With n.lock held: whether i has handles, no driver registered, and nothing keeps it.
bool unregistered_with_users(const Iface &i) { return i.users && !i.dev && !i.ticket; }

// ... and it was d that unregistered it.
bool left_unregistered(const Iface &i, const Domain &d) { return unregistered_with_users(i) && i.last_serial == d.serial; }

// With n.lock held: each interface d unregistered itself (about to register it again), with handles on it, is kept
// for d's load as a parked one is: the next registration by the driver in its place resumes the handles, that
// driver's run of 2 s without it or its give-up ends them.
void keep_left_unregistered(Net &n, const Domain &d) {
  for (auto &e : n.ifaces)
    if (left_unregistered(e.second, d)) e.second.ticket = shadow_kept(ObjectType::netdev, e.first, d);
}

// A fallback takes failed d's place: what d left unregistered is kept for the fallback.
void iface_handing_over(const Domain &d) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  keep_left_unregistered(n, d);
}

// d failed: what it left unregistered is kept for the restarted driver if d is shadowed, or else reset as an
// interface it had registered is (drop_iface). At once, as the failure's teardown begins (which releases no object
// of such an interface): an open from then on gets the shadow's answer, not ENOTREADY.
void iface_failed(const Domain &d) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  if (shadow_parks(&d)) {
    keep_left_unregistered(n, d);
    return;
  }
  for (auto &e : n.ifaces)
    if (left_unregistered(e.second, d)) reset_iface(n, e.second, d);
}

ShadowedClass shadowed(ObjectType::netdev, {park_iface, drop_iface, end_iface, iface_driver_gone, iface_handing_over, iface_failed});

}  // namespace

int64_t call_op(const std::shared_ptr<NetDev> &k, const OpCall &op) {
  Crossed c = class_cross(g_domains[k->domain], op);
  if (c.ok()) return c.status();
  return c.result == EnterResult::fault ? -EIO : -ENODEV;
}

std::shared_ptr<NetDev> live(const std::string &name) {
  Net &n = net();
  std::lock_guard<std::mutex> g(n.lock);
  auto it = n.ifaces.find(name);
  if (it == n.ifaces.end() || !it->second.dev || it->second.dev->dead) return nullptr;
  return it->second.dev;
}

std::string mtu_outside(const Limits &l, uint32_t mtu) {
  if (mtu >= l.min_mtu && mtu <= l.max_mtu) return "";
  return "MTU " + std::to_string(mtu) + " outside " + std::to_string(l.min_mtu) + ".." + std::to_string(l.max_mtu);
}

size_t frame_max(const Iface &i) {
  if (i.dev) return std::min<size_t>(i.dev->mtu + ETH_HLEN + 4, i.dev->limits.buf_size);
  return std::min<size_t>((i.mtu ? i.mtu : i.last.mtu) + ETH_HLEN + 4, i.last.buf_size);
}

namespace {

// Writes the configuration the applications set into the driver's net_device
// and calls the operations that apply it. 0 or the first error (*refusal: which setting, and what refused it; or
// -ENODEV, no setting's: the driver unregistered the interface meanwhile). A MAC or MTU they did not set is the
// driver's own (as it registered): one applied before and forgotten since (an earlier try's, before a setting after
// it was refused) is undone, so that the device has what the interface records.
int apply_config(const std::string &name, const std::shared_ptr<NetDev> &k, Refusal *refusal) {
  std::string *why = &refusal->why;
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
  auto gone = [refusal] {  // no setting refused: the configuration stays for the driver's next registration
    refusal->why = "its driver unregistered it meanwhile";
    refusal->setting = false;
    return -ENODEV;
  };
  int err = 0;
  if (!mac_set) mac = k->own_mac;
  if (k->ops.has_ndo_set_mac_address()) {
    bool differs;
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead) return gone();
      auto *dev = (net_device *)k->dev;
      differs = memcmp(dev->dev_addr, mac.data(), 6) != 0;
      memcpy(dev->addr_req, mac.data(), 6);
    }
    int r = mac_set || differs ? (int)call_op(k, k->ops.ndo_set_mac_address(k->dev, k->dev + offsetof(net_device, addr_req))) : 0;
    if (r && !err) {
      err = r;
      refusal->setting = true;
      *why = "ndo_set_mac_address(" + mac_string(mac.data()) + ") returned " + errno_named(r);
    }
  }
  bool set_mtu = mtu || k->mtu != k->limits.mtu;  // the applications', or the driver's own back
  if (!mtu) mtu = k->limits.mtu;
  std::string outside = mtu_outside(k->limits, mtu);  // a driver in another's place (a fallback) may take less
  if (!outside.empty()) {
    if (!err) {
      err = -EINVAL;
      refusal->setting = true;
      *why = outside;
    }
  } else if (set_mtu && k->ops.has_ndo_change_mtu()) {
    int r = (int)call_op(k, k->ops.ndo_change_mtu(k->dev, mtu));
    if (r && !err) {
      err = r;
      refusal->setting = true;
      *why = "ndo_change_mtu(" + std::to_string(mtu) + ") returned " + errno_named(r);
    }
    if (!r) k->mtu = mtu;
  }
  if (k->ops.has_ndo_set_rx_mode()) {
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead) return gone();
      auto *dev = (net_device *)k->dev;
      dev->flags = flags;
      dev->mc_count = (u32)mc.size();
      for (size_t j = 0; j < mc.size(); j++) memcpy(dev->mc_list[j], mc[j].data(), 6);
    }
    call_op(k, k->ops.ndo_set_rx_mode(k->dev));
  }
  return err;
}

}  // namespace

int open_dev(const std::string &name, const std::shared_ptr<NetDev> &k, Refusal *refusal) {
  if (k->opened) return 0;
  refusal->setting = false;
  int r = apply_config(name, k, refusal);
  if (r) return r;  // not opened with other settings than the applications asked for
  r = (int)call_op(k, k->ops.ndo_open(k->dev));
  if (r) refusal->why = "ndo_open returned " + errno_named(r);
  if (r == 0) {
    Net &n = net();
    std::lock_guard<std::mutex> g(n.lock);
    if (!k->dead) k->opened = true;
  }
  return r;
}

void pump(const std::string &name) {
  Net &n = net();
  for (;;) {
    std::shared_ptr<NetDev> k;
    // Held across the crossing, when n.lock is not: the map never erases an
    // interface (its name belongs to the device; only the reset at shutdown
    // clears it, with no driver left to cross into) and std::map never moves
    // an element, so the pointer stays good; its fields are touched only under n.lock.
    Iface *iface;
    std::vector<size_t> taken;
    std::vector<std::vector<uint8_t>> frames;
    {
      std::lock_guard<std::mutex> g(n.lock);
      auto it = n.ifaces.find(name);
      if (it == n.ifaces.end()) return;
      iface = &it->second;
      Iface &i = *iface;
      k = i.dev;
      if (!k || k->dead || !k->opened || i.replay || i.txq.empty()) return;
      for (size_t s = 0; s < k->skbs.size() && taken.size() < NOOKS_BATCH_MAX; s++) {
        if (k->skbs[s].busy) continue;
        // netSend checks the length; a frame longer than this registration's buffers is dropped all the same
        while (!i.txq.empty() && i.txq.front().size() > k->limits.buf_size) {
          i.txq.pop_front();
          i.c.tx_dropped++;
        }
        if (i.txq.empty()) break;
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
      for (size_t j = frames.size(); j-- > from;) iface->txq.push_front(std::move(frames[j]));
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
    // A frame refused NETDEV_TX_BUSY goes back to the head of the queue: the ndo_start_xmit calls after it are not
    // made (they return NETDEV_TX_BUSY too, and go back after it, in order), so none leaves ahead of it.
    BatchResult r = op_cross_batch(d, calls, BatchStop{NETDEV_TX_BUSY, taken.size()});
    bool busy = false;
    {
      std::lock_guard<std::mutex> g(n.lock);
      Iface &i = *iface;
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
          if (!busy) i.c.tx_busy++;  // the driver refused the first; the rest were not offered
          busy = true;
          back.push_back(std::move(frames[j]));
          continue;
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
    if (busy || r.result != EnterResult::ok) return;
  }
}

namespace {

// The transmit watchdog's nanny (run by the watchdog thread): an interface
// whose oldest socket buffer has been with the driver longer than its timeout
// is due an ndo_tx_timeout, which the JS thread gives it (tx_timeouts): only
// the JS thread crosses into a net driver for transmission.
void check_tx() {
  Net &n = net();
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
    n.timed_out.push_back(k);
    n.js.kick();
  }
}
Nanny nanny(100, check_tx);

// The kernel shut down: the next one's interfaces are named from eth0 again, with no counters or configuration.
void reset(napi_env env) {
  Net &n = net();
  {
    std::lock_guard<std::mutex> g(n.lock);
    n.ifaces.clear();
    n.by_device.clear();
    n.next_eth = 0;
    n.rx.clear();
    n.link_events.clear();
    n.detach_events.clear();
    n.timed_out.clear();
    n.hold_register.clear();
  }
  n.js.reset(env);
}
ClassReset class_reset(reset);

}  // namespace

void tx_timeouts(std::vector<std::string> *names) {
  Net &n = net();
  std::vector<std::shared_ptr<NetDev>> late;
  {
    std::lock_guard<std::mutex> g(n.lock);
    late.swap(n.timed_out);
  }
  for (auto &k : late) {
    {
      std::lock_guard<std::mutex> g(n.lock);
      if (k->dead) continue;  // gone since: its driver is recovered instead
    }
    call_op(k, k->ops.ndo_tx_timeout(k->dev, 0));
    names->push_back(k->name);  // frames still waiting go to the reset transmitter
  }
}

std::string mac_string(const uint8_t *m) {
  char b[18];
  snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

}  // namespace net_class
}  // namespace nooks

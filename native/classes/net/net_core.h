// The net class's core, shared by its three files: the interfaces drivers
// register and what applications asked of them (net_core.cc), the kernel calls
// drivers make (net_kapi.cc), and the N-API functions behind
// lib/classes/net.ts (net_napi.cc).
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
//    interface whose driver the agent gives up on, and (ENODEV) to one the
//    driver that registered it last left unregistered when it goes for good
//    (unloaded: its module_exit unregisters it; or given up on). One it left
//    unregistered when it failed (shadowed) is kept as a parked one is;
//    unshadowed, that failure resets it as it resets a registered one.
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
#pragma once
#include <napi.h>

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nooks/kapi.h>
#include <nooks/netdevice.h>

#include "../../shadow/taps.h"
#include "../common/failure.h"
#include "../common/js_pump.h"

namespace nooks {
namespace net_class {

struct SkbSlot {
  sk_buff *skb = nullptr;  // in the driver's DMA memory
  void *data = nullptr;
  dma_addr_t dma = 0;
  bool busy = false;
  uint64_t since = 0;  // jiffies when the driver got it
};

// What a registration takes: its MTU's range, the MTU it registered with, its socket buffers' size.
struct Limits {
  uint32_t min_mtu = 68, max_mtu = ETH_DATA_LEN, mtu = ETH_DATA_LEN;
  size_t buf_size = 0;
};

// One registration of an interface by a driver.
struct NetDev {
  int domain;
  uintptr_t dev;  // the driver's struct net_device
  NetDeviceOps ops;  // the driver's, reachable only through taps
  std::string name;
  std::vector<void *> pools;  // DMA memory: the sk_buffs, then their data buffers
  std::vector<SkbSlot> skbs;
  Limits limits;  // limits.mtu: the driver's own MTU, as it registered
  std::array<uint8_t, 6> own_mac{};  // the driver's own MAC, as it registered: what the interface has unless set
  std::atomic<uint32_t> mtu{ETH_DATA_LEN};  // as last set (the longest frame sent is mtu + 18: header and a VLAN tag)
  uint32_t watchdog_ms = 5000;  // dev->watchdog_timeo
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
  uint64_t resets = 0;  // times it was reset under its handles: a handle opened at a lower count lost its user to one
  std::string reset_code, reset_why;  // the latest reset's error: a handle it took gets it before its 'detached' event
  DriverFailure reset_failure;        // and the driver's failure that made it, if one did
  uint32_t mtu = 0;  // 0: the driver's
  uint32_t tx_timeout_ms = 0;  // 0: the driver's watchdog_timeo
  bool mac_set = false;
  std::array<uint8_t, 6> mac{};
  uint32_t flags = 0;
  std::vector<std::array<uint8_t, 6>> mc;
  std::deque<std::vector<uint8_t>> txq;
  std::shared_ptr<NetDev> dev;  // the live registration, if any
  Limits last;                  // the last registration's: sends and settings are checked against them while none is live
  bool replay = false;          // a new registration waits for the configuration and open
  int last_domain = -1;
  uint64_t last_serial = 0;  // the load of that driver: when it goes for good, handles on the interface it left unregistered go
  uint64_t ticket = 0;  // while the shadow keeps it for a driver's return: its entry in the shadow's ledger
  Counters c;
};

// Handles of an interface opened before its `resets`th reset lose it: NetError(code, why), which says what the
// recovery agent decided for the driver's failure that made the reset, if one did. Not those opened since:
// the event reaches JavaScript after the reset, maybe after an open that the reset's error asked for.
struct Detached {
  std::string iface, code, why;
  uint64_t resets;
  DriverFailure failure;
};

struct RxFrame {
  std::string iface;
  std::vector<uint8_t> data;
};

// The JS pump's drain (net_napi.cc): replay configuration to re-registered
// interfaces, send what waits, deliver received frames and link changes.
void on_kick(Napi::Env env);

struct Net {
  std::mutex lock;
  std::map<std::string, Iface> ifaces;           // by name
  std::map<std::string, std::string> by_device;  // device name -> interface name
  int next_eth = 0;
  std::vector<RxFrame> rx;
  std::vector<std::pair<std::string, bool>> link_events;  // every change, in order
  std::vector<Detached> detach_events;
  std::vector<std::shared_ptr<NetDev>> timed_out;  // late transmitters, for the JS thread (tx_timeouts)
  std::set<std::string> hold_register;  // test hook (netHoldRegister): interfaces whose next reopening registration waits
  JsPump js{on_kick, "nooks-net"};  // received frames, link changes, replays and waiting frames: to the JS thread
};
Net &net();

// With n.lock held: the interface d registered as its net_device `dev`, if any.
Iface *iface_of(Net &n, int domain, uintptr_t dev);
// With n.lock held: the registration is gone (unregistered or its driver failed).
void netdev_gone(Net &n, Iface &i);
// With n.lock held: applications lose the interface: their handles are
// detached with `why` (and `failure`, if a driver's failure made it), what they configured and queued is dropped.
void detach(Net &n, Iface &i, const std::string &code, const std::string &why, const DriverFailure &failure = {});
// Empty if l takes `mtu`, else why not ("MTU 20000 outside 68..1500").
std::string mtu_outside(const Limits &l, uint32_t mtu);
// With n.lock held: the longest frame i takes now: its MTU's (with a header and a VLAN tag), at most its socket
// buffers' size; while no registration is live, the last one's, with the MTU the replay will set.
size_t frame_max(const Iface &i);
// Calls an operation of the interface's driver; -ENODEV if it has none now, -EIO if it faulted.
int64_t call_op(const std::shared_ptr<NetDev> &k, const OpCall &op);
// The registration of `name` if alive.
std::shared_ptr<NetDev> live(const std::string &name);
// With n.lock held: what applications configured for i is forgotten (the driver's own settings from its next open).
void forget_config(Iface &i);
// Why open_dev failed: which setting or operation ("ndo_open returned -98 (EADDRINUSE)", "MTU 9000 outside
// 68..1500"), and whether it was a setting of the applications' configuration (not opened: ndo_open not called).
struct Refusal {
  std::string why;
  bool setting = false;
};
// Replays the applications' configuration (apply_config) and opens the interface (ndo_open). 0 or -errno (*refusal).
int open_dev(const std::string &name, const std::shared_ptr<NetDev> &k, Refusal *refusal);
// Hands waiting frames of interface `name` to its driver, a batch per crossing,
// until no socket buffer is free, the driver is busy, or nothing waits.
void pump(const std::string &name);
// JS thread: ndo_tx_timeout for the registrations the transmit watchdog found late; adds their names to *names
// (to pump what waits for them).
void tx_timeouts(std::vector<std::string> *names);
std::string mac_string(const uint8_t *m);

}  // namespace net_class
}  // namespace nooks

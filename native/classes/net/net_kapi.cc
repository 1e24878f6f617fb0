// The net class: the kernel calls network drivers make (lib/wrappers/kapi/net.ts):
// registering an interface (its socket buffers in the driver's DMA memory),
// passing received frames up, freeing transmitted buffers, the carrier.
#include <cstring>

#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/register_hold.h"
#include "../../kapi/subsystems.h"
#include "../../shadow/shadow.h"
#include "net_core.h"

using namespace nooks;
using namespace nooks::net_class;

namespace {
constexpr size_t kRxQueueMax = 8192;  // frames waiting for JS, all interfaces

// Test hook (netHoldRegister): the registration k of interface `name` that reopens it waits, before it returns to
// its driver d, until the JavaScript thread's replay onto it is over or d failed (10 s at most): the replay's
// ndo_open crosses into the driver while the registration is still in the kernel.
void hold_register_for_test(Net &n, Domain *d, const std::string &name, const std::shared_ptr<NetDev> &k) {
  {
    std::lock_guard<std::mutex> g(n.lock);
    if (!n.hold_register.erase(name)) return;
  }
  hold_registration_for_test("net", name, "the replay", [&] {
    std::lock_guard<std::mutex> g(n.lock);
    auto i = n.ifaces.find(name);
    return d->state.load() == DomainState::running && i != n.ifaces.end() && i->second.replay && i->second.dev == k;
  });
}
}  // namespace

extern "C" int kapi_register_netdev(void *p) {
  Domain *d = calling_domain();
  auto *dev = static_cast<net_device *>(p);
  // Each field read once: the driver may change them meanwhile.
  pci_dev *pdev = dev->pdev;
  check_object(d, (uintptr_t)pdev, ObjectType::pci_dev, false, "register_netdev", "dev->pdev");
  NetDeviceOps ops;
  ops.take(d, dev->netdev_ops, "register_netdev");
  uint32_t max_mtu = dev->max_mtu, min_mtu = dev->min_mtu, mtu = dev->mtu, watchdog_ms = dev->watchdog_timeo;
  if (!max_mtu) max_mtu = ETH_DATA_LEN;
  if (!min_mtu) min_mtu = 68;
  if (!mtu) dev->mtu = mtu = ETH_DATA_LEN;
  if (min_mtu > mtu || mtu > max_mtu || max_mtu > ETH_FRAME_MAX - ETH_HLEN - 4) return -EINVAL;
  std::string device = pdev->dev.name;
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
  k->limits = {min_mtu, max_mtu, mtu, buf};
  k->mtu = mtu;
  memcpy(k->own_mac.data(), dev->dev_addr, ETH_ALEN);
  k->watchdog_ms = watchdog_ms ? watchdog_ms : 5000;
  std::string name;
  bool reopen;
  {
    std::lock_guard<std::mutex> g(n.lock);
    auto b = n.by_device.find(device);
    if (b == n.by_device.end()) {
      name = "eth" + std::to_string(n.next_eth++);
      n.by_device[device] = name;
    } else {
      name = b->second;
    }
    // The driver's, named, before the interface is anyone's: the JavaScript thread reopens an interface in use as
    // soon as n.lock goes, crossing into the driver if it runs (a registration from a work item, after its init), and
    // the driver's calls in ndo_open (netif_carrier_on) must find the netdev its own. After, such a reopen failed the
    // driver (bad-call).
    snprintf(dev->name, IFNAMSIZ, "%s", name.c_str());
    d->objects.add({ObjectType::netdev, (uintptr_t)dev, sizeof *dev, 0, name});
    Iface &i = n.ifaces[name];
    i.name = name;
    i.device = device;
    i.dev = k;
    i.last = k->limits;
    i.last_domain = d->id;
    i.last_serial = d->serial;
    shadow_registered(ObjectType::netdev, name);  // the shadow's wait for it is over; after its end, a new device for its handles
    i.ticket = 0;
    i.c.registrations++;
    k->name = name;
    reopen = i.users > 0;
    if (reopen) {  // applications have it open: reopen it with their configuration (JS thread)
      i.replay = true;
      n.js.kick();
    }
  }
  if (reopen) hold_register_for_test(n, d, name, k);
  klog(6, "net: %s: registered for %s by %s, MAC %s, MTU %u", name.c_str(), device.c_str(), d->name.c_str(),
       mac_string(dev->dev_addr).c_str(), mtu);
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
    if (Iface *i = iface_of(n, d->id, (uintptr_t)dev)) {
      netdev_gone(n, *i);
    }
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
  n.js.kick();
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
      if (!e.second.txq.empty()) n.js.kick();  // frames wait for a buffer
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
  n.js.kick();
}

extern "C" void kapi_netif_carrier_on(void *p) { carrier(p, true); }
extern "C" void kapi_netif_carrier_off(void *p) { carrier(p, false); }

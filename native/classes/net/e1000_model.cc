// "e1000": an emulated Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e),
// the register subset a driver needs (<nooks/hw/e1000_regs.h>), following the 8254x
// Software Developer's Manual so that the same driver runs on QEMU's e1000 and
// on the real part (docs/devices.md lists what it implements): 32-bit register
// accesses to BAR 0, an EEPROM read through EERD holding the MAC address, the
// PHY through MDIC (e1000_phy.cc), receive address and multicast filters, legacy receive and
// transmit descriptor rings in the driver's DMA memory, interrupt causes in ICR
// (read clears) masked by IMS/IMC, statistics counters that clear on read.
//
// The wire is a UDP socket (as QEMU's -netdev socket,udp=PEER,localaddr=BIND):
// each datagram is one Ethernet frame without its FCS, so another process, or
// a second emulated NIC, is the link partner. Options: bind (host:port, default
// 127.0.0.1:0), peer (host:port; none: frames sent go nowhere), mac
// (aa:bb:cc:dd:ee:ff, default 52:54:00:12:34:5N), link ("up"/"down": the cable).
//
// Transmit runs in the TDT write (on the driver's thread): descriptors from TDH
// to TDT are fetched and their frames sent; those asking (RS) are written back
// (DD) and raise TXDW.
// Receive runs on the model's own thread: it waits on the socket, takes the
// datagrams waiting (recvmmsg), no more than the ring has free descriptors,
// writes them into the ring and raises RXT0 once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nooks/kapi.h>

#include "../../dev/bus.h"
#include "../../dev/device.h"
#include "../../kapi/log.h"
#include "e1000_phy.h"
#include "e1000_stats.h"
#include <nooks/hw/e1000_regs.h>

namespace nooks {
namespace {

constexpr size_t kMaxFrame = 16384;
constexpr unsigned kRecvBatch = 32;

bool parse_hostport(const std::string &s, sockaddr_in *out) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  char *end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) return false;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons((uint16_t)p);
  return inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1;
}

std::string hostport(const sockaddr_in &a) {
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
}

uint32_t crc32_ether(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffff;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320 & (0u - (c & 1)));
  }
  return ~c;
}

int instances = 0;  // for default MAC addresses

class E1000 : public EmulatedDevice, public NicPort {
 public:
  explicit E1000(const DeviceOptions &opts) {
    sockaddr_in bind_addr;
    auto get = [&](const char *k, const char *def) {
      auto it = opts.find(k);
      return it == opts.end() ? std::string(def) : it->second;
    };
    for (auto &o : opts)
      if (o.first != "bind" && o.first != "peer" && o.first != "mac" && o.first != "link")
        throw std::invalid_argument("e1000: unknown option '" + o.first + "' (known: bind, peer, mac, link)");
    if (!parse_hostport(get("bind", "127.0.0.1:0"), &bind_addr))
      throw std::invalid_argument("e1000: bind must be host:port (an IPv4 address), not '" + get("bind", "") + "'");
    std::string peer = get("peer", "");
    if (!peer.empty() && !parse_hostport(peer, &peer_))
      throw std::invalid_argument("e1000: peer must be host:port (an IPv4 address), not '" + peer + "'");
    has_peer_ = !peer.empty();
    std::string mac = get("mac", "");
    uint8_t m[6] = {0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + instances)};
    if (!mac.empty()) {
      unsigned v[6];
      char extra;
      if (sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
        throw std::invalid_argument("e1000: mac must be six hex bytes (52:54:00:12:34:56), not '" + mac + "'");
      for (int i = 0; i < 6; i++) {
        if (v[i] > 255) throw std::invalid_argument("e1000: bad mac '" + mac + "'");
        m[i] = (uint8_t)v[i];
      }
      if (m[0] & 1) throw std::invalid_argument("e1000: mac '" + mac + "' is a multicast address");
    }
    std::string link = get("link", "up");
    if (link != "up" && link != "down") throw std::invalid_argument("e1000: link must be 'up' or 'down'");
    cable_ = link == "up";
    instances++;
    // The EEPROM: the MAC in words 0-2, a checksum word making the sum 0xBABA.
    for (int i = 0; i < 3; i++) eeprom_[i] = (uint16_t)(m[2 * i] | (m[2 * i + 1] << 8));
    eeprom_[0x0a] = 0x4408;  // initialization control word 1 (as the 82540EM's)
    eeprom_[0x0d] = E1000_DEV_82540EM;
    eeprom_[0x0e] = E1000_VENDOR_INTEL;
    uint16_t sum = 0;
    for (int i = 0; i < E1000_EEPROM_WORDS - 1; i++) sum = (uint16_t)(sum + eeprom_[i]);
    eeprom_[E1000_EEPROM_WORDS - 1] = (uint16_t)(E1000_EEPROM_SUM - sum);

    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("e1000: socket: ") + strerror(errno));
    if (bind(fd_, (sockaddr *)&bind_addr, sizeof bind_addr) < 0) {
      std::string why = strerror(errno);
      close(fd_);
      throw std::invalid_argument("e1000: cannot bind the wire to " + get("bind", "") + ": " + why);
    }
    // room for bursts while the receive ring is full (QEMU's backend queues likewise)
    int big = 4 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) < 0) setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    socklen_t len = sizeof local_;
    getsockname(fd_, (sockaddr *)&local_, &len);
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    power_on();
    rx_thread_ = std::thread([this] { rx_loop(); });
  }

  ~E1000() override {
    {
      std::lock_guard<std::mutex> g(lock_);
      stop_ = true;
      room_.notify_all();
    }
    uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {}
    if (rx_thread_.joinable()) rx_thread_.join();
    close(fd_);
    close(wake_);
  }

  const char *kind() const override { return "e1000"; }
  uint16_t vendor() const override { return E1000_VENDOR_INTEL; }
  uint16_t device_id() const override { return E1000_DEV_82540EM; }
  uint64_t bar_size(int bar) const override { return bar == 0 ? E1000_BAR0_SIZE : 0; }

  uint32_t read(int, uint64_t off, unsigned width) override {
    if (width != 4 || (off & 3)) return bad_access(off, width);
    std::lock_guard<std::mutex> g(lock_);
    switch (off) {
      case E1000_STATUS: return status();
      case E1000_EECD: return E1000_EECD_PRES;
      case E1000_ICR: {
        uint32_t v = icr_;
        icr_ = 0;
        return v;
      }
      case E1000_ICS:  // write-only: reads as the causes
        return icr_;
      case E1000_IMS: return ims_;
      case E1000_IMC: return 0;
      default: break;
    }
    if (off >= E1000_CRCERRS && off < E1000_STATS_END) return stats_.read((unsigned)off);
    if (off < E1000_BAR0_SIZE) return regs_[off / 4];
    return bad_access(off, width);
  }

  void write(int, uint64_t off, uint32_t v, unsigned width) override {
    if (width != 4 || (off & 3)) return (void)bad_access(off, width);
    std::unique_lock<std::mutex> g(lock_);
    bool irq = false;
    switch (off) {
      case E1000_CTRL: {
        if (v & E1000_CTRL_RST) {
          power_on();
          return;
        }
        bool was_up = link_up();
        regs_[off / 4] = v & ~E1000_CTRL_PHY_RST;
        if (link_up() != was_up) irq = cause(E1000_ICR_LSC);
        break;
      }
      case E1000_EERD: {
        unsigned addr = (v >> E1000_EERD_ADDR_SHIFT) & 0xff;
        uint32_t word = addr < E1000_EEPROM_WORDS ? eeprom_[addr] : 0;  // beyond the 64 words: done, no data (as QEMU's)
        regs_[off / 4] = (v & 0xff00) | ((v & E1000_EERD_START) ? E1000_EERD_DONE | (word << E1000_EERD_DATA_SHIFT) : 0);
        break;
      }
      case E1000_MDIC:
        regs_[off / 4] = phy_.access(v, cable_);
        if (v & E1000_MDIC_INT_EN) irq = cause(E1000_ICR_MDAC);
        break;
      case E1000_ICR: icr_ &= ~v; break;  // writing 1s clears
      case E1000_ICS: irq = cause(v); break;
      case E1000_IMS:
        ims_ |= v;
        irq = (icr_ & ims_) != 0;
        break;
      case E1000_IMC: ims_ &= ~v; break;
      case E1000_RDLEN:
      case E1000_TDLEN: regs_[off / 4] = v & 0xfff80; break;  // multiples of 128 bytes
      case E1000_RDBAL:
      case E1000_TDBAL: regs_[off / 4] = v & ~0xfu; break;  // rings are 16-byte aligned: the low bits are ignored
      case E1000_RDTR:
      case E1000_RADV:
      case E1000_TIDV:
      case E1000_TADV:
      case E1000_ITR: regs_[off / 4] = v & 0xffff; break;
      case E1000_RDT:
        regs_[off / 4] = v & 0xffff;
        room_.notify_all();
        break;
      case E1000_RDH:
      case E1000_TDH: regs_[off / 4] = v & 0xffff; break;
      case E1000_TDT:
        regs_[off / 4] = v & 0xffff;
        irq = transmit();
        break;
      case E1000_TCTL:
        regs_[off / 4] = v;
        if (!(v & E1000_TCTL_EN)) tx_hung_ = false;  // a disabled transmitter starts afresh
        irq = transmit();  // enabled with descriptors already queued: they go now
        break;
      case E1000_STATUS: break;  // read-only
      default:
        if (off >= E1000_BAR0_SIZE) return (void)bad_access(off, width);
        if (off >= E1000_CRCERRS && off < E1000_STATS_END) break;  // statistics are read-only
        regs_[off / 4] = v;
    }
    rx_enabled_.store((regs_[E1000_RCTL / 4] & E1000_RCTL_EN) && link_up());
    g.unlock();
    if (irq) raise_irq();
  }

  void reset() override {
    std::lock_guard<std::mutex> g(lock_);
    power_on();
  }

  // The cable: plugged in or not (a link state change the driver sees as LSC).
  void set_cable(bool up) override {
    bool irq = false;
    {
      std::lock_guard<std::mutex> g(lock_);
      bool was = link_up();
      cable_ = up;
      if (link_up() != was) irq = cause(E1000_ICR_LSC);
      rx_enabled_.store((regs_[E1000_RCTL / 4] & E1000_RCTL_EN) && link_up());
    }
    if (irq) raise_irq();
  }

  // Test hook: the transmitter hangs (descriptors are neither sent nor written
  // back) until the driver disables it or resets the device.
  void hang_tx() override {
    std::lock_guard<std::mutex> g(lock_);
    tx_hung_ = true;
  }

  NicPort *nic() override { return this; }
  NicWire wire() override {
    std::lock_guard<std::mutex> g(lock_);
    NicWire w;
    w.local = hostport(local_);
    w.peer = has_peer_ ? hostport(peer_) : "";
    w.link = link_up();
    w.frames_sent = sent_;
    w.frames_received = received_;
    w.frames_dropped = dropped_;
    return w;
  }

 private:
  // Power-on values (with lock_ held, or in the constructor).
  void power_on() {
    memset(regs_, 0, sizeof regs_);
    stats_.power_on();
    icr_ = ims_ = 0;
    phy_.power_on();
    tx_hung_ = false;
    room_.notify_all();
    regs_[E1000_CTRL / 4] = E1000_CTRL_FD | E1000_CTRL_ASDE;
    // RAL0/RAH0 are loaded from the EEPROM at reset
    regs_[E1000_RAL(0) / 4] = eeprom_[0] | ((uint32_t)eeprom_[1] << 16);
    regs_[E1000_RAH(0) / 4] = eeprom_[2] | E1000_RAH_AV;
    rx_enabled_.store(false);
  }

  bool link_up() const { return cable_ && (regs_[E1000_CTRL / 4] & E1000_CTRL_SLU); }

  uint32_t status() const {
    return E1000_STATUS_FD | (link_up() ? E1000_STATUS_LU | E1000_STATUS_SPEED_1000 | E1000_STATUS_ASDV_1000 : 0);
  }

  // Sets interrupt causes; true if the line must be raised.
  bool cause(uint32_t c) {
    icr_ |= c;
    return (icr_ & ims_ & c) != 0;
  }

  uint32_t bad_access(uint64_t off, unsigned width) {
    report_error("%u-byte access to register 0x%lx: the 82540EM takes 32-bit accesses to its 128 KiB of registers", width,
                 (unsigned long)off);
    return 0xffffffff;
  }


  // Transmit descriptors TDH..TDT (with lock_ held). True if TXDW must be raised.
  bool transmit() {
    if (!(regs_[E1000_TCTL / 4] & E1000_TCTL_EN) || tx_hung_) return false;
    uint32_t n = regs_[E1000_TDLEN / 4] / 16;
    uint64_t base = regs_[E1000_TDBAL / 4] | ((uint64_t)regs_[E1000_TDBAH / 4] << 32);
    uint32_t &tdh = regs_[E1000_TDH / 4];
    uint32_t tdt = regs_[E1000_TDT / 4];
    if (!n || tdh >= n || tdt >= n) return false;
    bool irq = false;
    while (tdh != tdt) {
      e1000_tx_desc desc;
      uint64_t at = base + (uint64_t)tdh * 16;
      if (!dma_read(at, &desc, sizeof desc)) {
        regs_[E1000_TCTL / 4] &= ~E1000_TCTL_EN;  // the ring is unreachable: stop, as after a master abort
        return irq;
      }
      bool ok = true;
      if (desc.cmd & E1000_TXD_CMD_DEXT) {
        report_error("transmit descriptor %u: extended (context/data) descriptors are not supported", tdh);
        ok = false;
      } else if (desc.length) {
        size_t old = pending_.size();
        if (old + desc.length > kMaxFrame) {
          report_error("transmit descriptor %u: frame longer than %zu bytes", tdh, kMaxFrame);
          ok = false;
        } else {
          pending_.resize(old + desc.length);
          if (!dma_read(desc.buffer_addr, pending_.data() + old, desc.length)) ok = false;
        }
      }
      if (!ok) pending_.clear();
      else if (desc.cmd & E1000_TXD_CMD_EOP) send_pending();
      if (desc.cmd & E1000_TXD_CMD_RS) {  // report status: DD written back, and TXDW
        desc.status |= E1000_TXD_STAT_DD;
        dma_write(at + offsetof(e1000_tx_desc, status), &desc.status, 1);
        irq |= cause(E1000_ICR_TXDW);
      }
      tdh = (tdh + 1) % n;
    }
    irq |= cause(E1000_ICR_TXQE);
    return irq;
  }

  void send_pending() {
    if (pending_.size() < ETH_MIN && (regs_[E1000_TCTL / 4] & E1000_TCTL_PSP)) pending_.resize(ETH_MIN, 0);
    size_t len = pending_.size();
    if (link_up() && has_peer_) {
      if (sendto(fd_, pending_.data(), len, MSG_DONTWAIT, (sockaddr *)&peer_, sizeof peer_) >= 0) sent_++;
      else dropped_++;
    } else {
      dropped_++;
    }
    // counted as transmitted either way: the MAC sent it (there may be nobody listening); octets with the FCS
    stats_.count(E1000_GPTC);
    stats_.count(E1000_TPT);
    stats_.count64(E1000_GOTCL, len + 4);
    stats_.count64(E1000_TOTL, len + 4);
    stats_.count_size(E1000_PTC64, len + 4);
    if (len >= 6 && (pending_[0] & 1)) stats_.count(is_broadcast(pending_.data()) ? E1000_BPTC : E1000_MPTC);
    pending_.clear();
  }

  static bool is_broadcast(const uint8_t *f) {
    static const uint8_t all[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return !memcmp(f, all, 6);
  }

  // No receive descriptor for a frame (with lock_ held): missed, RXO raised.
  bool overrun() {
    stats_.count(E1000_RNBC);
    stats_.count(E1000_MPC);
    dropped_++;
    return cause(E1000_ICR_RXO);
  }

  // Whether the receive filters take a frame for this station.
  bool accept(const uint8_t *f) const {
    uint32_t rctl = regs_[E1000_RCTL / 4];
    if (is_broadcast(f))
      return (rctl & E1000_RCTL_BAM) || (rctl & E1000_RCTL_MPE);
    if (f[0] & 1) {
      if (rctl & E1000_RCTL_MPE) return true;
      unsigned mo = (rctl >> E1000_RCTL_MO_SHIFT) & 3;
      static const unsigned shift[4] = {4, 3, 2, 0};
      uint32_t hash = ((f[4] >> shift[mo]) | ((uint32_t)f[5] << (8 - shift[mo]))) & 0xfff;
      return (regs_[E1000_MTA / 4 + (hash >> 5)] >> (hash & 31)) & 1;
    }
    if (rctl & E1000_RCTL_UPE) return true;
    for (int i = 0; i < 16; i++) {
      uint32_t rah = regs_[E1000_RAH(i) / 4], ral = regs_[E1000_RAL(i) / 4];
      if (!(rah & E1000_RAH_AV)) continue;
      uint8_t a[6] = {(uint8_t)ral, (uint8_t)(ral >> 8), (uint8_t)(ral >> 16), (uint8_t)(ral >> 24), (uint8_t)rah, (uint8_t)(rah >> 8)};
      if (!memcmp(a, f, 6)) return true;
    }
    return false;
  }

  size_t rx_buffer_size() const {
    uint32_t rctl = regs_[E1000_RCTL / 4];
    unsigned sz = (rctl >> 16) & 3;
    if (rctl & E1000_RCTL_BSEX) return sz == 0 ? 2048 : (size_t)32768 >> sz;  // BSEX with 00 is reserved
    return (size_t)2048 >> sz;
  }

  // One frame from the wire into the receive ring (with lock_ held). True if RXT0 etc. must be raised.
  bool receive(const uint8_t *frame, size_t len) {
    uint32_t rctl = regs_[E1000_RCTL / 4];
    if (!(rctl & E1000_RCTL_EN) || !link_up() || len < ETH_HLEN) return false;
    if (!accept(frame)) return false;
    uint8_t buf[kMaxFrame + 64];
    memcpy(buf, frame, len);
    if (len < ETH_MIN) {  // the wire's minimum frame (the padding arrives with it)
      memset(buf + len, 0, ETH_MIN - len);
      len = ETH_MIN;
    }
    if (len > 1518 && !(rctl & E1000_RCTL_LPE)) return false;  // oversize: dropped by the MAC
    size_t wire_len = len + 4;  // what the counters count: the frame with its FCS
    if (!(rctl & E1000_RCTL_SECRC)) {
      uint32_t crc = crc32_ether(buf, len);
      memcpy(buf + len, &crc, 4);
      len += 4;
    }
    uint32_t n = regs_[E1000_RDLEN / 4] / 16;
    uint64_t base = regs_[E1000_RDBAL / 4] | ((uint64_t)regs_[E1000_RDBAH / 4] << 32);
    uint32_t &rdh = regs_[E1000_RDH / 4];
    uint32_t rdt = regs_[E1000_RDT / 4];
    size_t bsize = rx_buffer_size();
    size_t need = (len + bsize - 1) / bsize;
    uint32_t avail = n && rdh < n && rdt < n ? (rdt + n - rdh) % n : 0;
    if (avail < need) return overrun();
    for (size_t off = 0; off < len;) {
      if (rdh == rdt) return overrun();  // descriptors without a buffer used the rest up
      e1000_rx_desc desc;
      uint64_t at = base + (uint64_t)rdh * 16;
      if (!dma_read(at, &desc, sizeof desc)) {
        regs_[E1000_RCTL / 4] &= ~E1000_RCTL_EN;  // the ring is unreachable: stop receiving
        rx_enabled_.store(false);
        return false;
      }
      size_t chunk = desc.buffer_addr ? std::min(bsize, len - off) : 0;  // a null buffer address: skipped
      desc.errors = chunk && !dma_write(desc.buffer_addr, buf + off, chunk) ? E1000_RXD_ERR_RXE : 0;
      off += chunk;
      desc.length = (uint16_t)chunk;
      desc.csum = 0;
      desc.special = 0;
      // no checksum offload here: IXSM says so, with the frame's end
      desc.status = E1000_RXD_STAT_DD | (off == len ? E1000_RXD_STAT_EOP | E1000_RXD_STAT_IXSM : 0);
      dma_write(at + 8, (const uint8_t *)&desc + 8, 8);
      rdh = (rdh + 1) % n;
    }
    received_++;
    stats_.count(E1000_GPRC);
    stats_.count(E1000_TPR);
    stats_.count64(E1000_GORCL, wire_len);
    stats_.count64(E1000_TORL, wire_len);
    stats_.count_size(E1000_PRC64, wire_len);
    if (frame[0] & 1) stats_.count(is_broadcast(frame) ? E1000_BPRC : E1000_MPRC);
    bool irq = cause(E1000_ICR_RXT0);
    // receive descriptor minimum threshold: RCTL.RDMTS (1/2, 1/4, 1/8 of the ring)
    uint32_t left = (rdt + n - rdh) % n;
    unsigned rdmts = (rctl >> 8) & 3;
    if (rdmts < 3 && left <= (n >> (rdmts + 1))) irq |= cause(E1000_ICR_RXDMT0);
    return irq;
  }

  // Receive descriptors the driver has given the NIC, RDH up to RDT (with lock_ held).
  uint32_t rx_descriptors_free() const {
    uint32_t n = regs_[E1000_RDLEN / 4] / 16, rdh = regs_[E1000_RDH / 4], rdt = regs_[E1000_RDT / 4];
    if (!n || rdh >= n || rdt >= n) return 0;
    return (rdt + n - rdh) % n;
  }

  // Whether the ring has room for a frame of `len` bytes (with lock_ held).
  bool ring_has_room(size_t len) const {
    size_t bsize = rx_buffer_size();
    return rx_descriptors_free() >= (len + 4 + ETH_MIN + bsize - 1) / bsize;
  }

  // Whether frames go to the ring; else receive() drops them (with lock_ held).
  bool rx_to_ring() const { return (regs_[E1000_RCTL / 4] & E1000_RCTL_EN) && link_up(); }

  void rx_loop() {
    std::vector<uint8_t> bufs(kRecvBatch * kMaxFrame);
    mmsghdr msgs[kRecvBatch];
    iovec iov[kRecvBatch];
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents) return;
      if (!(p[0].revents & POLLIN)) continue;
      // No more frames than free descriptors (each takes one at least): with the ring full they
      // wait in the socket, as QEMU's e1000 stops reading its backend, and nothing is missed.
      unsigned batch = kRecvBatch;
      {
        std::unique_lock<std::mutex> g(lock_);
        room_.wait_for(g, std::chrono::milliseconds(20), [&] { return stop_ || !rx_to_ring() || rx_descriptors_free() > 0; });
        if (stop_) return;
        if (rx_to_ring()) batch = std::min(batch, rx_descriptors_free());
      }
      if (!batch) continue;
      memset(msgs, 0, sizeof msgs);
      for (unsigned i = 0; i < kRecvBatch; i++) {
        iov[i] = {bufs.data() + i * kMaxFrame, kMaxFrame};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int got = recvmmsg(fd_, msgs, batch, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < got;) {
        if (!rx_enabled_.load() || domain.load() < 0) {
          std::lock_guard<std::mutex> g(lock_);
          dropped_ += got - i;
          break;
        }
        bool irq = false, full = false;
        {
          DmaAccess access(*this);  // before lock_: the lock order of driver threads (inside a crossing, then lock_)
          std::lock_guard<std::mutex> g(lock_);
          for (; i < got; i++) {
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
              dropped_++;
              continue;
            }
            // Too few descriptors for a frame that needs several: hold it until the driver
            // returns more, the socket buffering what follows.
            if (rx_to_ring() && !ring_has_room(msgs[i].msg_len)) {
              full = true;
              break;
            }
            irq |= receive(bufs.data() + i * kMaxFrame, msgs[i].msg_len);
          }
        }
        if (irq) raise_irq();
        if (!full) continue;
        std::unique_lock<std::mutex> g(lock_);
        room_.wait_for(g, std::chrono::milliseconds(20), [&] {
          return stop_ || !rx_to_ring() || ring_has_room(msgs[i].msg_len);
        });
        if (stop_) return;
      }
    }
  }

  static constexpr size_t ETH_MIN = 60, ETH_HLEN = 14;

  std::mutex lock_;
  std::condition_variable room_;  // the driver returned receive descriptors
  bool stop_ = false;
  uint32_t regs_[E1000_BAR0_SIZE / 4];
  E1000Stats stats_;
  uint32_t icr_ = 0, ims_ = 0;
  uint16_t eeprom_[E1000_EEPROM_WORDS] = {};
  E1000Phy phy_;
  std::vector<uint8_t> pending_;  // a frame being gathered from several descriptors
  bool cable_ = true;
  bool tx_hung_ = false;
  std::atomic<bool> rx_enabled_{false};
  int fd_ = -1, wake_ = -1;
  sockaddr_in local_{}, peer_{};
  bool has_peer_ = false;
  uint64_t sent_ = 0, received_ = 0, dropped_ = 0;
  std::thread rx_thread_;
};

DeviceKind kind("e1000", [](const DeviceOptions &o) -> std::unique_ptr<EmulatedDevice> { return std::make_unique<E1000>(o); });

}  // namespace
}  // namespace nooks

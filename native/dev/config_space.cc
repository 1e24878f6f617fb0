#include "config_space.h"

#include <cstring>
#include <string>

namespace nooks {

namespace {

uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }

uint32_t config_dword(BusDevice &dev, uint32_t off) {
  uint8_t b[4];
  dev.config_read(off, b, 4);
  return get32(b);
}

// What PCI sizing decodes: a power of two, at least 16 bytes of memory or 4 of I/O.
uint64_t decoded_size(uint64_t size, bool io) {
  uint64_t s = io ? 4 : 16;
  while (s < size) s <<= 1;
  return s;
}

// The identity of each emulated model's function (which the models do not
// carry themselves): a class code as lspci knows it, the revision, subsystem ids.
struct ModelIdentity {
  const char *kind;
  uint32_t class_code;
  uint8_t revision;
  uint16_t subsystem_vendor, subsystem_device;  // 0: the device's own ids
};
constexpr ModelIdentity kModels[] = {
    {"e1000", 0x020000, 0x03, 0x8086, 0x001e},  // Ethernet controller; the 82540EM's EEPROM defaults
    {"blk", 0x018000, 0x01, 0, 0},             // mass storage controller, other
    {"uart16550", 0x070002, 0x01, 0, 0},       // serial controller, 16550 compatible
    {"pcm", 0x040100, 0x01, 0, 0},             // multimedia audio controller
};
constexpr ModelIdentity kUnclassified = {"", 0xff0000, 0x01, 0, 0};

// Emulated BARs lie at bus addresses of their own, 16 MiB per device.
constexpr uint64_t kEmulatedBarBase = 0xc0000000, kEmulatedBarSpan = 16u << 20;

}  // namespace

void EmulatedDevice::make_config() {
  const ModelIdentity *id = &kUnclassified;
  for (const ModelIdentity &m : kModels)
    if (!strcmp(m.kind, kind())) id = &m;
  uint8_t *c = config_;
  memset(c, 0, sizeof config_);
  put16(c + 0x00, vendor());
  put16(c + 0x02, device_id());
  c[0x08] = id->revision;
  c[0x09] = (uint8_t)id->class_code, c[0x0a] = (uint8_t)(id->class_code >> 8), c[0x0b] = (uint8_t)(id->class_code >> 16);
  uint64_t next = kEmulatedBarBase + (uint64_t)index * kEmulatedBarSpan;
  for (int bar = 0; bar < 6; bar++) {
    if (!bar_size(bar)) continue;
    uint64_t size = decoded_size(bar_size(bar), false), at = (next + size - 1) & ~(size - 1);
    put32(c + kPciBar0 + 4 * bar, (uint32_t)at);  // 32-bit memory, not prefetchable
    next = at + size;
  }
  put16(c + 0x2c, id->subsystem_vendor ? id->subsystem_vendor : vendor());
  put16(c + 0x2e, id->subsystem_device ? id->subsystem_device : device_id());
  c[kPciInterruptLine] = (uint8_t)irq_line;
  c[0x3d] = 1;  // INTA#
  config_made_ = true;
}

void EmulatedDevice::config_read(uint32_t off, uint8_t *buf, size_t n) {
  if (!config_made_) make_config();
  memcpy(buf, config_ + off, n);
}

void EmulatedDevice::config_write(uint32_t off, const uint8_t *buf, size_t n) {
  if (!config_made_) make_config();
  memcpy(config_ + off, buf, n);
}

void pci_config_read(BusDevice &dev, uint32_t off, uint8_t *buf, size_t n) {
  dev.config_read(off, buf, n);
  for (int bar = 0; bar < 6; bar++) {
    uint32_t at = kPciBar0 + 4 * bar;
    if (!(dev.bar_sizing & (1u << bar)) || at + 4 <= off || at >= off + n) continue;
    uint32_t raw = config_dword(dev, at), mask;
    uint32_t below = bar ? config_dword(dev, at - 4) : 0;
    if (bar && (below & 7) == 4 && dev.bar_size(bar - 1))  // the upper half of a 64-bit BAR
      mask = (uint32_t)(~(decoded_size(dev.bar_size(bar - 1), false) - 1) >> 32);
    else if (!dev.bar_size(bar))
      mask = 0;
    else if (raw & 1)
      mask = (uint32_t)~(decoded_size(dev.bar_size(bar), true) - 1) | (raw & 3);
    else
      mask = ((uint32_t)~(decoded_size(dev.bar_size(bar), false) - 1) & 0xfffffff0u) | (raw & 0xf);
    uint8_t m[4];
    put32(m, mask);
    for (uint32_t i = 0; i < 4; i++)
      if (at + i >= off && at + i < off + n) buf[at + i - off] = m[i];
  }
}

void pci_config_write(BusDevice &dev, uint32_t off, const uint8_t *buf, size_t n) {
  uint8_t written[6] = {}, ones[6] = {};  // per BAR: bytes written, bytes written as 0xff
  for (uint32_t p = off; p < off + n; p++) {
    uint8_t v = buf[p - off];
    if (p >= kPciBar0 && p < kPciBar0 + 24) {
      written[(p - kPciBar0) / 4]++;
      ones[(p - kPciBar0) / 4] += v == 0xff;
      continue;
    }
    uint8_t mask = p == kPciCommand ? 0x07 : p == kPciCommand + 1 ? 0x04 : (p == 0x0c || p == 0x0d || p == kPciInterruptLine) ? 0xff : 0;
    if (!mask) continue;
    uint8_t cur;
    dev.config_read(p, &cur, 1);
    uint8_t next = (uint8_t)((cur & ~mask) | (v & mask));
    dev.config_write(p, &next, 1);
  }
  for (int bar = 0; bar < 6; bar++) {
    if (!written[bar]) continue;
    if (ones[bar] == written[bar]) dev.bar_sizing |= (uint8_t)(1u << bar);
    else dev.bar_sizing &= (uint8_t) ~(1u << bar);
  }
}

PciResource pci_resource(BusDevice &dev, int bar) {
  PciResource r;
  if (bar < 0 || bar > 5 || !dev.bar_size(bar)) return r;
  uint32_t raw = config_dword(dev, kPciBar0 + 4 * bar);
  bool io = raw & 1, mem64 = !io && (raw & 6) == 4, prefetch = !io && (raw & 8);
  r.start = io ? raw & ~3u : raw & ~0xfu;
  if (mem64 && bar < 5) r.start |= (uint64_t)config_dword(dev, kPciBar0 + 4 * (bar + 1)) << 32;
  r.size = decoded_size(dev.bar_size(bar), io);
  // IORESOURCE_SIZEALIGN, _IO or _MEM, the BAR's own type bits, _PREFETCH, _MEM_64
  r.flags = 0x40000 | (io ? 0x100 : 0x200) | (raw & (io ? 3 : 0xf)) | (prefetch ? 0x2000 : 0) | (mem64 ? 0x100000 : 0);
  return r;
}

PciIdentity pci_identity(BusDevice &dev) {
  uint8_t c[4], s[4];
  dev.config_read(0x08, c, 4);
  dev.config_read(0x2c, s, 4);
  return {(uint32_t)c[1] | (uint32_t)c[2] << 8 | (uint32_t)c[3] << 16, c[0], (uint16_t)(s[0] | s[1] << 8), (uint16_t)(s[2] | s[3] << 8)};
}

}  // namespace nooks

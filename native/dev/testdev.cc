// "testdev": a small device for testing the bus itself: a scratch register,
// a DMA engine that fills or sums driver memory, an interrupt when a DMA
// finishes, a small RAM that takes accesses of any width and counts them (a
// read-to-clear register), and nothing at the other offsets (undefined
// registers are device errors). Not a model of real hardware.
#include <cstring>
#include <mutex>
#include <vector>

#include "device.h"

namespace nooks {
namespace {

enum Reg : uint64_t {
  ID = 0x00, SCRATCH = 0x04, DMA_LO = 0x08, DMA_HI = 0x0c, DMA_LEN = 0x10, PATTERN = 0x14,
  CTRL = 0x18, STATUS = 0x1c, RESULT = 0x20, IRQ_ACK = 0x24, IRQ_RAISE = 0x28,
  RAM_ACCESSES = 0x30,  // accesses to the RAM since the last read of this register (read to clear)
  LAST_ACCESS = 0x34,   // the last RAM access: offset in the RAM | width << 8 | write << 16
  RAM = 0x100,          // kRamSize bytes, any width
};
constexpr uint64_t kRamSize = 64;
enum Ctrl : uint32_t { FILL = 1, SUM = 2 };
enum Status : uint32_t { DONE = 1, ERROR = 2 };
constexpr uint32_t kId = 0x4e4b0001;
constexpr uint32_t kMaxDma = 1 << 20;

class TestDev : public EmulatedDevice {
 public:
  const char *kind() const override { return "testdev"; }
  uint16_t vendor() const override { return 0x4e4b; }
  uint16_t device_id() const override { return 0x0001; }
  uint64_t bar_size(int bar) const override { return bar == 0 ? 4096 : 0; }

  uint32_t read(int, uint64_t off, unsigned width) override {
    std::lock_guard<std::mutex> g(lock_);
    if (off - RAM < kRamSize) return ram(off - RAM, width, false, 0);
    if (width != 4) return undefined_register(off, width);
    switch (off) {
      case RAM_ACCESSES: {
        uint32_t n = ram_accesses_;
        ram_accesses_ = 0;
        return n;
      }
      case LAST_ACCESS: return last_access_;
      case ID: return kId;
      case SCRATCH: return scratch_;
      case DMA_LO: return (uint32_t)addr_;
      case DMA_HI: return (uint32_t)(addr_ >> 32);
      case DMA_LEN: return len_;
      case PATTERN: return pattern_;
      case STATUS: return status_;
      case RESULT: return result_;
      default: return undefined_register(off, width);
    }
  }

  void write(int, uint64_t off, uint32_t v, unsigned width) override {
    std::unique_lock<std::mutex> g(lock_);
    if (off - RAM < kRamSize) return (void)ram(off - RAM, width, true, v);
    if (width != 4) return (void)undefined_register(off, width);
    switch (off) {
      case SCRATCH: scratch_ = v; return;
      case DMA_LO: addr_ = (addr_ & ~0xffffffffull) | v; return;
      case DMA_HI: addr_ = (addr_ & 0xffffffffull) | ((uint64_t)v << 32); return;
      case DMA_LEN: len_ = v; return;
      case PATTERN: pattern_ = v & 0xff; return;
      case IRQ_ACK: status_ &= ~v; return;
      case IRQ_RAISE: g.unlock(); raise_irq(); return;
      case CTRL: run(v, g); return;
      default: undefined_register(off, width);
    }
  }

  void reset() override {
    std::lock_guard<std::mutex> g(lock_);
    scratch_ = len_ = pattern_ = status_ = result_ = ram_accesses_ = last_access_ = 0;
    addr_ = 0;
    memset(ram_, 0, sizeof ram_);
  }

 private:
  // One access to the RAM (little-endian, as PCI); one that runs past its end is a device error.
  uint32_t ram(uint64_t off, unsigned width, bool write, uint32_t v) {
    if (off + width > kRamSize) return undefined_register(RAM + off, width);
    ram_accesses_++;
    last_access_ = (uint32_t)off | width << 8 | (uint32_t)write << 16;
    if (!write) {
      uint32_t r = 0;
      memcpy(&r, ram_ + off, width);
      return r;
    }
    memcpy(ram_ + off, &v, width);
    return 0;
  }

  // The DMA runs in the register write, then interrupts.
  void run(uint32_t op, std::unique_lock<std::mutex> &g) {
    if ((op != FILL && op != SUM) || len_ > kMaxDma) {
      status_ = DONE | ERROR;
    } else {
      std::vector<uint8_t> buf(len_, (uint8_t)pattern_);
      bool ok = op == FILL ? dma_write(addr_, buf.data(), len_) : dma_read(addr_, buf.data(), len_);
      result_ = 0;
      for (uint8_t b : buf) result_ += b;
      status_ = ok ? DONE : DONE | ERROR;
    }
    g.unlock();
    raise_irq();
  }

  std::mutex lock_;
  uint32_t scratch_ = 0, len_ = 0, pattern_ = 0, status_ = 0, result_ = 0, ram_accesses_ = 0, last_access_ = 0;
  uint8_t ram_[kRamSize] = {};
  uint64_t addr_ = 0;
};

DeviceKind kind("testdev", [](const DeviceOptions &) -> std::unique_ptr<EmulatedDevice> { return std::make_unique<TestDev>(); });

}  // namespace
}  // namespace nooks

// "blk": an emulated disk backed by an image file. A queue-based controller
// (<nooks/hw/blkdev_regs.h>): the driver puts 32-byte entries in a submission ring in
// its DMA memory and rings the SQ_TAIL doorbell; the device's own thread
// reads the entries, moves the data by DMA (checked against the driver's DMA
// window: a bad address completes the request with an error), does the I/O
// with pread/pwrite/fsync on the image, writes 16-byte completion entries and
// raises its interrupt. reset() stops the work and forgets the rings.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nooks/kapi.h>

#include "../../dev/device.h"
#include <nooks/hw/blkdev_regs.h>

namespace nooks {
namespace {

static_assert(sizeof(blkdev_sqe) == 32, "submission entry layout");
static_assert(sizeof(blkdev_cqe) == 16, "completion entry layout");
constexpr uint32_t kMaxQueue = 1024;
constexpr uint32_t kMaxCount = 1u << 16;  // sectors per request (32 MiB)

class BlkDev : public EmulatedDevice {
 public:
  BlkDev(int fd, uint64_t sectors) : fd_(fd), sectors_(sectors), worker_([this] { run(); }) {}
  ~BlkDev() override {
    {
      std::lock_guard<std::mutex> g(lock_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
    close(fd_);
  }

  const char *kind() const override { return "blk"; }
  uint16_t vendor() const override { return BLKDEV_VENDOR; }
  uint16_t device_id() const override { return BLKDEV_DEVICE; }
  uint64_t bar_size(int bar) const override { return bar == 0 ? 4096 : 0; }

  uint32_t read(int, uint64_t off, unsigned width) override {
    std::lock_guard<std::mutex> g(lock_);
    if (width != 4) return undefined_register(off, width);
    switch (off) {
      case BLKDEV_REG_ID: return BLKDEV_ID;
      case BLKDEV_REG_CAP_LO: return (uint32_t)sectors_;
      case BLKDEV_REG_CAP_HI: return (uint32_t)(sectors_ >> 32);
      case BLKDEV_REG_SQ_LO: return (uint32_t)sq_;
      case BLKDEV_REG_SQ_HI: return (uint32_t)(sq_ >> 32);
      case BLKDEV_REG_CQ_LO: return (uint32_t)cq_;
      case BLKDEV_REG_CQ_HI: return (uint32_t)(cq_ >> 32);
      case BLKDEV_REG_QSIZE: return qsize_;
      case BLKDEV_REG_CTRL: return enabled_ ? BLKDEV_CTRL_ENABLE : 0;
      case BLKDEV_REG_STATUS: return (enabled_ ? BLKDEV_STATUS_READY : 0) | (ring_error_ ? BLKDEV_STATUS_ERROR : 0);
      case BLKDEV_REG_SQ_TAIL: return sq_tail_;
      case BLKDEV_REG_CQ_HEAD: return cq_head_;
      case BLKDEV_REG_INTR: return intr_;
      default: return undefined_register(off, width);
    }
  }

  void write(int, uint64_t off, uint32_t v, unsigned width) override {
    std::lock_guard<std::mutex> g(lock_);
    if (width != 4) return (void)undefined_register(off, width);
    switch (off) {
      case BLKDEV_REG_SQ_LO: sq_ = (sq_ & ~0xffffffffull) | v; return;
      case BLKDEV_REG_SQ_HI: sq_ = (sq_ & 0xffffffffull) | ((uint64_t)v << 32); return;
      case BLKDEV_REG_CQ_LO: cq_ = (cq_ & ~0xffffffffull) | v; return;
      case BLKDEV_REG_CQ_HI: cq_ = (cq_ & 0xffffffffull) | ((uint64_t)v << 32); return;
      case BLKDEV_REG_QSIZE:
        if (enabled_ || v < 2 || v > kMaxQueue) return (void)report_error("bad queue size %u (2..%u, device disabled)", v, kMaxQueue);
        qsize_ = v;
        return;
      case BLKDEV_REG_CTRL:
        if (v & BLKDEV_CTRL_ENABLE) {
          if (!enabled_) {
            enabled_ = true;
            sq_head_ = sq_tail_ = cq_head_ = cq_tail_ = 0;
            phase_ = 1;
          }
        } else {
          forget();
        }
        return;
      case BLKDEV_REG_SQ_TAIL:
        if (!enabled_ || v >= qsize_) return (void)report_error("SQ doorbell %u (queue size %u, %s)", v, qsize_, enabled_ ? "enabled" : "disabled");
        sq_tail_ = v;
        cv_.notify_all();
        return;
      case BLKDEV_REG_CQ_HEAD:
        if (!enabled_ || v >= qsize_) return (void)report_error("CQ doorbell %u (queue size %u, %s)", v, qsize_, enabled_ ? "enabled" : "disabled");
        cq_head_ = v;
        cv_.notify_all();
        return;
      case BLKDEV_REG_INTR_ACK: intr_ &= ~v; return;
      default: undefined_register(off, width);
    }
  }

  // Never waits for the device thread (a caller may hold what it needs, the
  // mprotect lock): the thread rechecks the generation before each DMA.
  void reset() override {
    std::lock_guard<std::mutex> g(lock_);
    forget();
    sq_ = cq_ = 0;
    qsize_ = 0;
  }

 private:
  void forget() {
    enabled_ = false;
    ring_error_ = false;
    sq_head_ = sq_tail_ = cq_head_ = cq_tail_ = intr_ = 0;
    phase_ = 1;
    gen_++;
    cv_.notify_all();
  }


  // The device thread: one submission entry at a time; the interrupt when
  // the ring is drained (completions coalesce while the driver keeps up).
  void run() {
    std::unique_lock<std::mutex> g(lock_);
    for (;;) {
      cv_.wait(g, [this] { return stop_ || (enabled_ && !ring_error_ && sq_head_ != sq_tail_ && cq_room()); });
      if (stop_) return;
      uint64_t gen = gen_;
      uint64_t at = sq_ + (uint64_t)sq_head_ * sizeof(blkdev_sqe);
      blkdev_sqe e;
      bool ok;
      g.unlock();
      {
        DmaAccess access(*this);  // before lock_: the lock order is the mprotect lock, then lock_
        std::lock_guard<std::mutex> again(lock_);
        ok = gen == gen_ && dma_read(at, &e, sizeof e);
      }
      g.lock();
      if (gen != gen_) continue;
      if (!ok) {
        ring_error_ = true;
        report_error("submission ring unreadable at bus address 0x%lx: stopped", (unsigned long)at);
        continue;
      }
      sq_head_ = (sq_head_ + 1) % qsize_;
      g.unlock();
      int32_t status = execute(e, gen);
      g.lock();
      if (gen != gen_) continue;
      // The entry with the old phase, then the phase: the driver sees a whole entry.
      blkdev_cqe c{e.tag, status, (uint16_t)sq_head_, (uint16_t)(phase_ ^ 1), 0};
      uint16_t phase = (uint16_t)phase_;
      uint64_t cat = cq_ + (uint64_t)cq_tail_ * sizeof(blkdev_cqe);
      g.unlock();
      {
        DmaAccess access(*this);
        std::lock_guard<std::mutex> again(lock_);
        ok = gen == gen_ && dma_write(cat, &c, sizeof c);
        std::atomic_thread_fence(std::memory_order_release);
        ok = ok && dma_write(cat + offsetof(blkdev_cqe, phase), &phase, sizeof phase);
      }
      g.lock();
      if (gen != gen_) continue;
      if (!ok) {
        ring_error_ = true;
        report_error("completion ring unwritable at bus address 0x%lx: stopped", (unsigned long)cat);
        continue;
      }
      if (++cq_tail_ == qsize_) {
        cq_tail_ = 0;
        phase_ ^= 1;
      }
      if (sq_head_ == sq_tail_ || !cq_room()) {
        intr_ |= BLKDEV_INTR_CQ;
        g.unlock();
        raise_irq();
        g.lock();
      }
    }
  }

  bool cq_room() const { return (cq_tail_ + 1) % qsize_ != cq_head_; }

  // One request, outside lock_; DMA only while the generation is unchanged.
  int32_t execute(const blkdev_sqe &e, uint64_t gen) {
    if (e.opcode == BLKDEV_OP_FLUSH) return fsync(fd_) == 0 ? BLKDEV_CS_OK : BLKDEV_CS_IO_ERROR;
    if ((e.opcode != BLKDEV_OP_READ && e.opcode != BLKDEV_OP_WRITE) || e.count == 0 || e.count > kMaxCount ||
        e.sector > sectors_ || e.count > sectors_ - e.sector) {
      report_error("bad request: opcode %u, sectors %lu+%u (capacity %lu)", e.opcode, (unsigned long)e.sector, e.count,
                   (unsigned long)sectors_);
      return BLKDEV_CS_BAD_REQUEST;
    }
    size_t n = (size_t)e.count * 512;
    off_t off = (off_t)(e.sector * 512);
    buf_.resize(n);
    if (e.opcode == BLKDEV_OP_WRITE) {
      if (!dma(gen, e.buffer, n, false)) return BLKDEV_CS_DMA_ERROR;
      return full_io(true, off, n) ? BLKDEV_CS_OK : BLKDEV_CS_IO_ERROR;
    }
    if (!full_io(false, off, n)) return BLKDEV_CS_IO_ERROR;
    return dma(gen, e.buffer, n, true) ? BLKDEV_CS_OK : BLKDEV_CS_DMA_ERROR;
  }

  bool dma(uint64_t gen, uint64_t bus, size_t n, bool to_memory) {
    DmaAccess access(*this);
    std::lock_guard<std::mutex> g(lock_);
    if (gen != gen_) return false;  // reset meanwhile: the memory may be someone else's now
    return to_memory ? dma_write(bus, buf_.data(), n) : dma_read(bus, buf_.data(), n);
  }

  bool full_io(bool write, off_t off, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = write ? pwrite(fd_, buf_.data() + done, n - done, off + (off_t)done)
                        : pread(fd_, buf_.data() + done, n - done, off + (off_t)done);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return false;
      if (r == 0) {  // past the end of a short image: zeros
        if (write) return false;
        memset(buf_.data() + done, 0, n - done);
        break;
      }
      done += (size_t)r;
    }
    return true;
  }

  int fd_;
  uint64_t sectors_;
  std::mutex lock_;
  std::condition_variable cv_;
  bool stop_ = false, enabled_ = false, ring_error_ = false;
  uint64_t sq_ = 0, cq_ = 0, gen_ = 0;
  uint32_t qsize_ = 0, sq_head_ = 0, sq_tail_ = 0, cq_head_ = 0, cq_tail_ = 0, phase_ = 1, intr_ = 0;
  std::vector<uint8_t> buf_;  // the device thread's
  std::thread worker_;        // last: starts once the rest is set up
};

std::unique_ptr<EmulatedDevice> make(const DeviceOptions &opts) {
  auto image = opts.find("image");
  if (image == opts.end() || image->second.empty()) throw std::invalid_argument("blk: option 'image' (a file path) is required");
  uint64_t size = 0;
  auto sz = opts.find("size");
  if (sz != opts.end()) {
    char *end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(sz->second.c_str(), &end, 10);
    if (errno || !end || *end || v == 0 || v % 512)
      throw std::invalid_argument("blk: option 'size' must be a positive multiple of 512 bytes, not '" + sz->second + "'");
    size = v;
  }
  const std::string &path = image->second;
  // Created here (O_EXCL says so) or there already: a refused device removes
  // only an image it created, never one that was there before.
  bool created = true;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = open(path.c_str(), O_RDWR | O_CLOEXEC);  // not O_CREAT: fs.protected_regular refuses it on others' files in /tmp
    // a symlink to no file yet (O_EXCL refuses any symlink): made as before, and kept
    if (fd < 0 && errno == ENOENT) fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  }
  if (fd < 0) throw std::invalid_argument("blk: cannot open image '" + path + "': " + strerror(errno));
  // One disk per image: two writers would corrupt each other's data. The lock
  // goes with the descriptor (closed by ~BlkDev, or by the process's death).
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);  // left even if created here: the device holding the lock has opened it since
    if (err == EWOULDBLOCK) throw DeviceError("EBUSY", "blk: image '" + path + "' is in use by another blk device (this process's or another's)");
    throw std::invalid_argument("blk: cannot lock image '" + path + "': " + strerror(err));
  }
  // With the lock held, no other blk device uses the image: one created here can go.
  auto refuse = [&](const std::string &why) {
    if (created) unlink(path.c_str());
    close(fd);
    throw std::invalid_argument("blk: " + why);
  };
  struct stat st;
  if (fstat(fd, &st) != 0) refuse("cannot stat image '" + path + "': " + strerror(errno));
  if ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0) refuse("cannot size image '" + path + "': " + strerror(errno));
  uint64_t bytes = size ? size : (uint64_t)st.st_size;
  if (bytes < 512) refuse("image '" + path + "' is empty: give a 'size'");
  return std::make_unique<BlkDev>(fd, bytes / 512);
}

DeviceKind kind("blk", make);

}  // namespace
}  // namespace nooks

// "uart16550": a 16550A UART on a PCI card (BAR 0: its eight 8-bit
// registers), whose line is a real tty: a pty in tests, /dev/ttyS* or
// /dev/ttyUSB* on a user's machine. Register-exact: RBR/THR, IER, IIR/FCR,
// LCR, MCR, LSR, MSR, SCR, the divisor latch (DLAB), 16-byte FIFOs with
// trigger levels, the character timeout, loopback, and the interrupt
// priorities of the datasheet. The model's own thread does the tty I/O at the
// programmed baud rate; the divisor and LCR the driver programs are applied to
// the tty with tcsetattr, MCR's DTR/RTS to its modem lines (TIOCMSET) and the
// tty's CTS/DSR/RI/DCD come back in MSR. Nothing per byte leaves C++.
//
// The line of a tty holds what the receive FIFO cannot take (the far end's
// writes wait in the tty), so a slow driver delays bytes and never loses them;
// a tty with no room (a far end that stops reading) holds the transmitter as a
// deasserted CTS would: THR and FIFO stop emptying and the driver waits, while
// received bytes and the timers keep moving;
// loopback mode is an internal wire and overruns as the chip does. What the
// receive FIFO held when it is cleared (a reset, when the driver fails; FCR, at
// the driver's startup) is lost, and counted (uart16550_rx_lost).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "../../dev/device.h"
#include "../../kapi/log.h"
#include <nooks/hw/uart_regs.h>
#include "uart16550.h"

namespace nooks {
namespace {

constexpr uint32_t kClock = 1843200;   // the classic 1.8432 MHz crystal: 115200 baud at divisor 1
constexpr size_t kFifo = 16;
constexpr size_t kLineHold = kUart16550LineHold;  // bytes the line holds each way: read ahead of the receiver, sent ahead of the tty

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

speed_t speed_of(uint32_t baud, uint32_t *actual) {
  static const struct { uint32_t baud; speed_t s; } table[] = {
      {50, B50}, {75, B75}, {110, B110}, {134, B134}, {150, B150}, {200, B200}, {300, B300}, {600, B600},
      {1200, B1200}, {1800, B1800}, {2400, B2400}, {4800, B4800}, {9600, B9600}, {19200, B19200},
      {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400}};
  size_t best = 0;
  for (size_t i = 1; i < sizeof table / sizeof table[0]; i++)
    if ((table[i].baud > baud ? table[i].baud - baud : baud - table[i].baud) <
        (table[best].baud > baud ? table[best].baud - baud : baud - table[best].baud))
      best = i;
  *actual = table[best].baud;
  return table[best].s;
}

class Uart16550 : public EmulatedDevice {
 public:
  UartLineSettings line_settings() {
    std::lock_guard<std::mutex> g(lock_);
    return requested_;
  }

  uint64_t rx_lost() {
    std::lock_guard<std::mutex> g(lock_);
    return rx_lost_;
  }

  size_t rx_held() {
    std::lock_guard<std::mutex> g(lock_);
    return rx_.size();
  }

  size_t tx_held() {
    std::lock_guard<std::mutex> g(lock_);
    return line_out_.size();
  }

  bool line_held() override { return tx_held() >= kLineHold; }

  explicit Uart16550(const DeviceOptions &opts) {
    auto it = opts.find("tty");
    if (it != opts.end() && !it->second.empty() && it->second != "none") {
      path_ = it->second;
      fd_ = open(path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd_ < 0) throw std::invalid_argument("uart16550: cannot open tty '" + path_ + "': " + strerror(errno));
      if (!isatty(fd_)) {
        close(fd_);
        throw std::invalid_argument("uart16550: '" + path_ + "' is not a tty");
      }
    }
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    reset_locked();
    apply_line_locked();
    thread_ = std::thread([this] { loop(); });
  }

  ~Uart16550() override {
    {
      std::lock_guard<std::mutex> g(lock_);
      stop_ = true;
    }
    kick();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
    close(wake_);
  }

  const char *kind() const override { return "uart16550"; }
  uint16_t vendor() const override { return UART16550_VENDOR; }
  uint16_t device_id() const override { return UART16550_DEVICE; }
  uint64_t bar_size(int bar) const override { return bar == 0 ? 8 : 0; }

  uint32_t read(int, uint64_t off, unsigned width) override {
    std::unique_lock<std::mutex> g(lock_);
    if (width != 1) return undefined("read", off, width);
    uint32_t v = 0;
    switch (off) {
      case UART_RX:
        if (lcr_ & UART_LCR_DLAB) return dll_;
        if (!rx_.empty()) {
          rbr_ = rx_.front();
          rx_.pop_front();
          rx_activity_ = now_ns();
          timeout_ = false;
          kicked_ = true;  // the line may push the next byte in
        }
        v = rbr_;
        break;
      case UART_IER: v = lcr_ & UART_LCR_DLAB ? dlm_ : ier_; break;
      case UART_IIR: v = iir_locked(true); break;
      case UART_LCR: v = lcr_; break;
      case UART_MCR: v = mcr_; break;
      case UART_LSR:
        v = lsr_locked();
        lsr_errors_ = 0;
        break;
      case UART_MSR:
        v = msr_locked();
        msr_delta_ = 0;
        break;
      case UART_SCR: v = scr_; break;
    }
    finish(g);
    return v;
  }

  void write(int, uint64_t off, uint32_t value, unsigned width) override {
    std::unique_lock<std::mutex> g(lock_);
    if (width != 1) return (void)undefined("write", off, width);
    uint8_t v = (uint8_t)value;
    switch (off) {
      case UART_TX:
        if (lcr_ & UART_LCR_DLAB) {
          dll_ = v;
          break;
        }
        if (tx_.size() < capacity()) tx_.push_back(v);  // a full FIFO drops the byte, as the chip does
        thre_ = false;
        kicked_ = true;
        break;
      case UART_IER:
        if (lcr_ & UART_LCR_DLAB) {
          dlm_ = v;
          break;
        }
        // enabling the THR-empty interrupt with the THR empty interrupts at once
        if ((v & UART_IER_THRI) && !(ier_ & UART_IER_THRI) && tx_.empty()) thre_ = true;
        ier_ = v & 0x0f;
        break;
      case UART_FCR: fcr_write(v); break;
      case UART_LCR: {
        uint8_t old = lcr_;
        lcr_ = v;
        if (!(v & UART_LCR_DLAB) && (old != v || line_dirty_)) apply_line_locked();
        break;
      }
      case UART_MCR:
        mcr_ = v & 0x1f;
        apply_mctrl_locked();
        break;
      case UART_LSR:
      case UART_MSR:
        g.unlock();
        undefined("write", off, width);
        return;
      case UART_SCR: scr_ = v; break;
    }
    if (lcr_ & UART_LCR_DLAB) line_dirty_ = true;
    finish(g);
  }

  void reset() override {
    {
      std::lock_guard<std::mutex> g(lock_);
      reset_locked();
      apply_line_locked();
    }
    kick();
  }

 private:
  size_t capacity() const { return (fcr_ & UART_FCR_ENABLE_FIFO) ? kFifo : 1; }
  size_t trigger() const {
    if (!(fcr_ & UART_FCR_ENABLE_FIFO)) return 1;
    static const size_t levels[] = {1, 4, 8, 14};
    return levels[fcr_ >> 6];
  }
  bool loop_mode() const { return mcr_ & UART_MCR_LOOP; }

  void reset_locked() {
    ier_ = lcr_ = mcr_ = scr_ = fcr_ = 0;
    dll_ = 12;  // 9600 baud
    dlm_ = 0;
    rbr_ = 0;
    lsr_errors_ = msr_delta_ = 0;
    thre_ = timeout_ = false;
    line_dirty_ = false;
    rx_lost_ += rx_.size();
    rx_.clear();
    tx_.clear();
    tsr_busy_ = false;
    // line_in_ stays: those bytes are still on the line (in the tty), not in the chip
    msr_inputs_ = modem_inputs_locked();
    irq_asserted_ = false;
  }

  void fcr_write(uint8_t v) {
    bool was = fcr_ & UART_FCR_ENABLE_FIFO;
    bool on = v & UART_FCR_ENABLE_FIFO;
    if (was != on || (v & UART_FCR_CLEAR_RCVR)) {
      rx_lost_ += rx_.size();
      rx_.clear();
      timeout_ = false;
    }
    if (was != on || (v & UART_FCR_CLEAR_XMIT)) tx_.clear();
    fcr_ = on ? (v & 0xc9) : 0;  // DMA mode and trigger kept only with the FIFOs on
    if (tx_.empty() && (ier_ & UART_IER_THRI) && (v & UART_FCR_CLEAR_XMIT)) thre_ = true;
    kicked_ = true;
  }

  uint8_t lsr_locked() const {
    uint8_t v = lsr_errors_;
    if (!rx_.empty()) v |= UART_LSR_DR;
    if (tx_.empty()) v |= UART_LSR_THRE;
    if (tx_.empty() && !tsr_busy_) v |= UART_LSR_TEMT;
    return v;
  }

  // CTS, DSR, RI, DCD (MSR's upper nibble): the tty's lines, or MCR's in loopback.
  uint8_t modem_inputs_locked() const {
    if (loop_mode())
      return (mcr_ & UART_MCR_RTS ? UART_MSR_CTS : 0) | (mcr_ & UART_MCR_DTR ? UART_MSR_DSR : 0) |
             (mcr_ & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (mcr_ & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
    int bits = 0;
    // A pty has no modem lines: the far end is there (CTS, DSR, DCD asserted).
    if (fd_ < 0) return 0;
    if (ioctl(fd_, TIOCMGET, &bits) != 0) return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    return (bits & TIOCM_CTS ? UART_MSR_CTS : 0) | (bits & TIOCM_DSR ? UART_MSR_DSR : 0) |
           (bits & TIOCM_RI ? UART_MSR_RI : 0) | (bits & TIOCM_CD ? UART_MSR_DCD : 0);
  }

  // Samples the inputs and latches their changes in MSR's delta bits.
  void sample_modem_locked() {
    uint8_t now = modem_inputs_locked(), old = msr_inputs_;
    if ((now ^ old) & UART_MSR_CTS) msr_delta_ |= UART_MSR_DCTS;
    if ((now ^ old) & UART_MSR_DSR) msr_delta_ |= UART_MSR_DDSR;
    if ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) msr_delta_ |= UART_MSR_TERI;
    if ((now ^ old) & UART_MSR_DCD) msr_delta_ |= UART_MSR_DDCD;
    msr_inputs_ = now;
  }

  uint8_t msr_locked() {
    sample_modem_locked();
    return msr_inputs_ | msr_delta_;
  }

  void apply_mctrl_locked() {
    sample_modem_locked();
    if (fd_ < 0 || loop_mode()) return;
    int bits = 0;
    if (ioctl(fd_, TIOCMGET, &bits) != 0) return;  // a pty has no modem lines
    bits = (bits & ~(TIOCM_DTR | TIOCM_RTS)) | (mcr_ & UART_MCR_DTR ? TIOCM_DTR : 0) | (mcr_ & UART_MCR_RTS ? TIOCM_RTS : 0);
    ioctl(fd_, TIOCMSET, &bits);
  }

  // The divisor and LCR, applied to the tty; also the character time.
  void apply_line_locked() {
    line_dirty_ = false;
    unsigned divisor = dll_ | (dlm_ << 8);
    unsigned bits = 1 + (5 + (lcr_ & 3)) + (lcr_ & UART_LCR_PARITY ? 1 : 0) + (lcr_ & UART_LCR_STOP ? 2 : 1);
    if (divisor == 0) {
      report_error("divisor latch is 0: the baud generator stops (line settings not applied)");
      baud_ = 0;
      return;
    }
    baud_ = kClock / 16 / divisor;
    char_ns_ = (uint64_t)bits * 1000000000ull / baud_;
    if (fd_ < 0) return;
    termios t;
    if (tcgetattr(fd_, &t) != 0) return;
    cfmakeraw(&t);
    uint32_t actual;
    speed_t s = speed_of(baud_, &actual);
    cfsetispeed(&t, s);
    cfsetospeed(&t, s);
    t.c_cflag &= ~(CSIZE | PARENB | PARODD | CSTOPB | CMSPAR);
    static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
    t.c_cflag |= sizes[lcr_ & 3] | CLOCAL | CREAD;
    if (lcr_ & UART_LCR_STOP) t.c_cflag |= CSTOPB;
    if (lcr_ & UART_LCR_PARITY) {
      t.c_cflag |= PARENB;
      if (!(lcr_ & UART_LCR_EPAR)) t.c_cflag |= PARODD;
      if (lcr_ & UART_LCR_SPAR) t.c_cflag |= CMSPAR;
    }
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    requested_ = {actual, 5u + (lcr_ & 3), lcr_ & UART_LCR_STOP ? 2u : 1u,
                  !(lcr_ & UART_LCR_PARITY) ? "none" : (lcr_ & UART_LCR_SPAR) ? (lcr_ & UART_LCR_EPAR ? "space" : "mark")
                                                       : (lcr_ & UART_LCR_EPAR ? "even" : "odd")};
    if (tcsetattr(fd_, TCSANOW, &t) != 0) klog(4, "%s: tcsetattr on %s: %s", name.c_str(), path_.c_str(), strerror(errno));
    if (actual != baud_) klog(4, "%s: %u baud is not a tty speed: %s runs at %u", name.c_str(), baud_, path_.c_str(), actual);
    ioctl(fd_, lcr_ & UART_LCR_SBC ? TIOCSBRK : TIOCCBRK);
  }

  // Highest-priority pending interrupt, as IIR reads; reading it acknowledges THRE.
  uint8_t iir_locked(bool acknowledge) {
    uint8_t fifo = (fcr_ & UART_FCR_ENABLE_FIFO) ? 0xc0 : 0;
    uint8_t id = UART_IIR_NO_INT;
    if ((ier_ & UART_IER_RLSI) && (lsr_errors_ & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI))) id = UART_IIR_RLSI;
    else if ((ier_ & UART_IER_RDI) && rx_.size() >= trigger()) id = UART_IIR_RDI;
    else if ((ier_ & UART_IER_RDI) && timeout_ && !rx_.empty()) id = UART_IIR_RX_TIMEOUT;
    else if ((ier_ & UART_IER_THRI) && thre_) {
      id = UART_IIR_THRI;
      if (acknowledge) thre_ = false;
    } else if ((ier_ & UART_IER_MSI) && (msr_delta_ & 0x0f)) id = UART_IIR_MSI;
    return fifo | id;
  }

  // After a change: assert the interrupt line while an interrupt is pending
  // (raised again on each change, as a level line is seen again).
  void finish(std::unique_lock<std::mutex> &g) {
    bool pending = !(iir_locked(false) & UART_IIR_NO_INT);
    bool raise = pending && (!irq_asserted_ || changed_);
    irq_asserted_ = pending;
    changed_ = false;
    bool kick_thread = kicked_;
    kicked_ = false;
    g.unlock();
    if (raise) raise_irq();
    if (kick_thread) kick();
  }

  uint32_t undefined(const char *what, uint64_t off, unsigned width) {
    std::vector<LogField> fields{{"access", what}, {"register", off}, {"width", width}};
    if (width != 1) report_error(std::move(fields), "%s of undefined register 0x%lx (width %u: the 16550's registers are 8 bits)", what,
                                 (unsigned long)off, width);
    else report_error(std::move(fields), "%s of read-only register 0x%lx (%s)", what, (unsigned long)off, off == UART_LSR ? "LSR" : "MSR");
    return width == 1 ? 0xff : width == 2 ? 0xffff : 0xffffffff;
  }

  void kick() {
    uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {}
  }

  // The line: transmitter and receiver at the baud rate, the tty's I/O.
  void loop() {
    std::unique_lock<std::mutex> g(lock_);
    uint8_t inbuf[256];
    while (!stop_) {
      uint64_t now = now_ns();
      bool changed = false;
      if (baud_ > 0) {
        // transmitter: each character takes char_ns_ on the wire
        if (!tsr_busy_ && !tx_.empty() && !line_full()) {
          tsr_busy_ = true;
          tsr_done_ = now + char_ns_;
          tsr_ = tx_.front();
          tx_.pop_front();
          if (tx_.empty() && (ier_ & UART_IER_THRI)) thre_ = true;
          changed = true;
        }
        while (tsr_busy_ && tsr_done_ <= now) {
          if (loop_mode()) {
            if (rx_.size() < capacity()) {
              rx_.push_back(tsr_);
            } else {
              lsr_errors_ |= UART_LSR_OE;
              rx_lost_++;
            }
            rx_activity_ = now;
          } else if (fd_ >= 0) {
            line_out_.push_back((char)tsr_);
          }
          tsr_busy_ = false;
          changed = true;
          if (!tx_.empty() && !line_full()) {
            tsr_busy_ = true;
            tsr_ = tx_.front();
            tx_.pop_front();
            tsr_done_ += char_ns_;
            if (tx_.empty() && (ier_ & UART_IER_THRI)) thre_ = true;
          }
        }
        // receiver: one character per char_ns_ from the line into the FIFO
        while (!line_in_.empty() && rx_.size() < capacity() && rx_next_ <= now && !loop_mode()) {
          rx_.push_back(line_in_.front());
          line_in_.pop_front();
          // back to back at the baud rate; after a stall (a full FIFO) at most a FIFO's worth at once
          rx_next_ = std::max(rx_next_ + char_ns_, now - kFifo * char_ns_);
          rx_activity_ = now;
          changed = true;
        }
        // character timeout: data below the trigger level, no activity for 4 character times
        if (!rx_.empty() && !timeout_ && now >= rx_activity_ + 4 * char_ns_) {
          timeout_ = true;
          changed = true;
        }
      }
      uint8_t before = msr_delta_;
      sample_modem_locked();
      if (msr_delta_ != before) changed = true;
      // tty I/O without the lock
      bool want_in = fd_ >= 0 && line_in_.size() < kLineHold && !loop_mode();
      uint64_t next = UINT64_MAX;
      if (baud_ > 0) {
        if (tsr_busy_) next = std::min(next, tsr_done_);
        if (!line_in_.empty() && rx_.size() < capacity()) next = std::min(next, std::max(rx_next_, now));
        if (!rx_.empty() && !timeout_) next = std::min(next, rx_activity_ + 4 * char_ns_);
      }
      if (changed) {
        changed_ = true;
        finish(g);
      } else {
        g.unlock();
      }
      bool want_out = !line_out_.empty();
      pollfd fds[2] = {{wake_, POLLIN, 0}, {fd_, (short)((want_in ? POLLIN : 0) | (want_out ? POLLOUT : 0)), 0}};
      // modem lines of a real tty are polled every 50 ms; a pty's POLLOUT may come late: held output is tried every 10 ms
      uint64_t wait = next == UINT64_MAX ? 50000000ull : (next > now ? next - now : 0);
      wait = std::min<uint64_t>(wait, want_out ? 10000000ull : 50000000ull);
      timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
      int n = ppoll(fds, fd_ >= 0 ? 2 : 1, &ts, nullptr);
      if (n > 0 && (fds[0].revents & POLLIN)) {
        uint64_t v;
        if (::read(wake_, &v, sizeof v) < 0) {}
      }
      ssize_t got = 0;
      if (n > 0 && fd_ >= 0 && (fds[1].revents & POLLIN)) got = ::read(fd_, inbuf, sizeof inbuf);
      if (n > 0 && fd_ >= 0 && (fds[1].revents & POLLHUP) && got <= 0) {
        // no far end (a pty whose other side is closed): do not spin
        timespec nap = {0, 5000000};
        nanosleep(&nap, nullptr);
      }
      size_t sent = want_out ? write_tty() : 0;
      g.lock();
      line_out_.erase(0, sent);
      if (got > 0) {
        uint64_t t = now_ns();
        if (line_in_.empty()) rx_next_ = std::max(rx_next_, t + char_ns_);
        line_in_.insert(line_in_.end(), inbuf, inbuf + got);
      }
    }
  }

  // The line's output to the tty, without the lock: how many of line_out_'s
  // bytes are done. What the tty has no room for stays, never waited for (the
  // transmitter stops instead); a tty that fails (no far end: EIO) is a wire
  // nobody listens to: what it had is dropped.
  size_t write_tty() {
    ssize_t n = ::write(fd_, line_out_.data(), line_out_.size());
    if (n >= 0 || errno == EAGAIN || errno == EINTR) return n > 0 ? (size_t)n : 0;
    klog(4, "%s: %zu bytes not written to %s: %s", name.c_str(), line_out_.size(), path_.c_str(), strerror(errno));
    return line_out_.size();
  }

  // The tty holds kLineHold unsent bytes: the transmitter waits, as for a far end that deasserted CTS.
  bool line_full() const { return !loop_mode() && fd_ >= 0 && line_out_.size() >= kLineHold; }

  std::mutex lock_;
  UartLineSettings requested_;  // what the last tcsetattr asked of the tty
  std::thread thread_;
  bool stop_ = false;
  std::string path_;
  int fd_ = -1, wake_ = -1;
  // registers
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0, dll_ = 12, dlm_ = 0, rbr_ = 0;
  uint8_t lsr_errors_ = 0, msr_delta_ = 0, msr_inputs_ = 0;
  uint64_t rx_lost_ = 0;  // received bytes discarded: FIFO cleared (reset, FCR) or overrun
  bool thre_ = false, timeout_ = false, line_dirty_ = false;
  std::deque<uint8_t> rx_, tx_;
  // the line
  uint32_t baud_ = 9600;
  uint64_t char_ns_ = 1000000000ull * 10 / 9600;
  bool tsr_busy_ = false;
  uint8_t tsr_ = 0;
  uint64_t tsr_done_ = 0, rx_next_ = 0, rx_activity_ = 0;
  std::deque<uint8_t> line_in_;
  std::string line_out_;  // sent, not yet taken by the tty: changed by the loop thread alone, with the lock
  bool irq_asserted_ = false, changed_ = false, kicked_ = false;
};

}  // namespace

// dev as the model, nullptr if it is not a uart16550.
static Uart16550 *as_uart16550(EmulatedDevice *dev) {
  return dev && strcmp(dev->kind(), "uart16550") == 0 ? static_cast<Uart16550 *>(dev) : nullptr;
}

bool uart16550_line_settings(EmulatedDevice *dev, UartLineSettings *out) {
  Uart16550 *u = as_uart16550(dev);
  if (u) *out = u->line_settings();
  return u;
}

bool uart16550_rx_lost(EmulatedDevice *dev, uint64_t *out) {
  Uart16550 *u = as_uart16550(dev);
  if (u) *out = u->rx_lost();
  return u;
}

bool uart16550_rx_held(EmulatedDevice *dev, size_t *out) {
  Uart16550 *u = as_uart16550(dev);
  if (u) *out = u->rx_held();
  return u;
}

bool uart16550_tx_held(EmulatedDevice *dev, size_t *out) {
  Uart16550 *u = as_uart16550(dev);
  if (u) *out = u->tx_held();
  return u;
}

namespace {
DeviceKind kind("uart16550", [](const DeviceOptions &o) -> std::unique_ptr<EmulatedDevice> { return std::make_unique<Uart16550>(o); });

}  // namespace
}  // namespace nooks

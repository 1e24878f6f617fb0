// "pcm": an emulated PCM sound device. Two DMA engines (playback, capture),
// each a ring in the driver's DMA memory that the device walks at the real
// sample rate (wall clock), interrupting once per period. Playback goes to a
// WAV file (option `playback`), capture comes from one (option `capture`).
// Format: 16-bit little-endian, 1..8 channels, 4000..192000 Hz.
//
// Each engine may move data only while its position (HWPTR, a free-running
// byte count since it was programmed) is below the limit the driver gives it
// (APPL): playback stops at the end of what the application wrote, with no
// silence invented, and capture never overwrites what was not read.
//
// Registers (BAR 0, 32-bit): engine bank at 0x00 (playback) and 0x40 (capture)
//   +0x00 ADDR_LO  +0x04 ADDR_HI  ring bus address
//   +0x08 SIZE     ring bytes (a multiple of PERIOD)   +0x0c PERIOD bytes
//   +0x10 RATE     +0x14 CHANNELS  +0x18 FORMAT (2 = S16_LE)
//   +0x1c CTRL     1 = run, 0 = stop (writing 1 programs the engine: HWPTR = 0);
//                  3 = run, resuming the stream a reset cut (see below)
//   +0x20 HWPTR    (read-only)      +0x24 APPL (limit)
//   +0x28 VOLUME   0..100, bit 31 mute
//   +0x2c STATUS   bit 0 running, bit 1 error (bad program or DMA)
// Global: 0x80 ID (0x4e4b5043), 0x84 INTR status (bit 0 playback period,
// bit 1 capture period, bit 2 error), 0x88 INTR ack (write 1s to clear),
// 0x8c CAPS (bit 0 playback, bit 1 capture).
//
// A reset (recovery) stops the engines. An engine it stopped while running
// was cut: its HWPTR keeps the position where it stopped until the engine is
// programmed again (a restarted driver reads where its predecessor's DMA got
// to), and a start with CTRL = 3 resumes that stream: playback goes on in the
// same WAV file, capture from where the source stopped. The file holds what
// was played, without the silence of the cut (as for any underrun: no silence
// invented); the cut's length, the audible gap, is logged. A plain start after
// a reset begins afresh, as after power-on.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../../dev/device.h"
#include "../../kapi/log.h"

namespace nooks {
namespace {

enum EngReg : uint64_t {
  ADDR_LO = 0x00, ADDR_HI = 0x04, SIZE = 0x08, PERIOD = 0x0c, RATE = 0x10, CHANNELS = 0x14, FORMAT = 0x18,
  CTRL = 0x1c, HWPTR = 0x20, APPL = 0x24, VOLUME = 0x28, STATUS = 0x2c,
};
enum GlobalReg : uint64_t { ID = 0x80, INTR = 0x84, INTR_ACK = 0x88, CAPS = 0x8c };
constexpr uint32_t kId = 0x4e4b5043;
constexpr uint64_t kBank = 0x40;
constexpr uint32_t kMaxRing = 1u << 24;
constexpr uint32_t kMute = 1u << 31;
constexpr uint32_t kIntrError = 4;
constexpr uint32_t kCtrlRun = 1, kCtrlResume = 2;
using Clock = std::chrono::steady_clock;

struct Engine {
  uint64_t addr = 0;
  uint32_t size = 0, period = 0, rate = 0, channels = 0, format = 0;
  uint32_t hw = 0, appl = 0, volume = 100, status = 0;
  bool running = false;
  bool cut = false;  // stopped by a reset while running, not started since
  uint64_t gen = 0;  // bumped at every (re)program/stop: a DMA in flight for an older one is dropped
  Clock::time_point t0, played_until;  // played_until: when the last frame moved ends, on the wall clock
  uint64_t frames_since_t0 = 0;
};

void put16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xff; }
uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }

void scale(uint8_t *buf, size_t n, uint32_t volume) {
  bool mute = volume & kMute;
  uint32_t v = volume & 0xff;
  if (!mute && v >= 100) return;
  for (size_t i = 0; i + 1 < n; i += 2) {
    int32_t s = (int16_t)get16(buf + i);
    s = mute ? 0 : s * (int32_t)v / 100;
    put16(buf + i, (uint16_t)(int16_t)s);
  }
}

class PcmDevice : public EmulatedDevice {
 public:
  explicit PcmDevice(const DeviceOptions &o) {
    auto p = o.find("playback");
    if (p != o.end()) playback_path_ = p->second;
    auto c = o.find("capture");
    if (c != o.end()) load_capture(c->second);
    if (playback_path_.empty() && c == o.end())
      throw std::invalid_argument("pcm: give a `playback` WAV path to write, a `capture` WAV path to read, or both");
    thread_ = std::thread([this] { loop(); });
  }

  ~PcmDevice() override {
    {
      std::lock_guard<std::mutex> g(lock_);
      quit_ = true;
      cv_.notify_all();
    }
    thread_.join();
    close_wav();
  }

  const char *kind() const override { return "pcm"; }
  uint16_t vendor() const override { return 0x4e4b; }
  uint16_t device_id() const override { return 0x5043; }
  uint64_t bar_size(int bar) const override { return bar == 0 ? 4096 : 0; }

  uint32_t read(int, uint64_t off, unsigned width) override {
    std::lock_guard<std::mutex> g(lock_);
    if (width != 4) return undefined_register(off, width);
    switch (off) {
      case ID: return kId;
      case INTR: return intr_;
      case CAPS: return (playback_path_.empty() ? 0 : 1) | (has_capture_ ? 2 : 0);
    }
    if (off >= 2 * kBank) return undefined_register(off, width);
    const Engine &e = eng_[off / kBank];
    switch (off % kBank) {
      case ADDR_LO: return (uint32_t)e.addr;
      case ADDR_HI: return (uint32_t)(e.addr >> 32);
      case SIZE: return e.size;
      case PERIOD: return e.period;
      case RATE: return e.rate;
      case CHANNELS: return e.channels;
      case FORMAT: return e.format;
      case CTRL: return e.running;
      case HWPTR: return e.hw;
      case APPL: return e.appl;
      case VOLUME: return e.volume;
      case STATUS: return e.status | (e.running ? 1 : 0);
    }
    return undefined_register(off, width);
  }

  void write(int, uint64_t off, uint32_t v, unsigned width) override {
    std::lock_guard<std::mutex> g(lock_);
    if (width != 4) return (void)undefined_register(off, width);
    if (off == INTR_ACK) {
      intr_ &= ~v;
      raised_ &= ~v;
      return;
    }
    if (off >= 2 * kBank) return (void)undefined_register(off, width);
    int which = (int)(off / kBank);
    Engine &e = eng_[which];
    switch (off % kBank) {
      case ADDR_LO: e.addr = (e.addr & ~0xffffffffull) | v; return;
      case ADDR_HI: e.addr = (e.addr & 0xffffffffull) | ((uint64_t)v << 32); return;
      case SIZE: e.size = v; return;
      case PERIOD: e.period = v; return;
      case RATE: e.rate = v; return;
      case CHANNELS: e.channels = v; return;
      case FORMAT: e.format = v; return;
      case APPL: e.appl = v; cv_.notify_all(); return;
      case VOLUME: e.volume = v & (kMute | 0xff); if ((e.volume & 0xff) > 100) e.volume = (e.volume & kMute) | 100; return;
      case CTRL: v & kCtrlRun ? start(which, e, v & kCtrlResume) : stop(which, e); return;
      default: undefined_register(off, width);
    }
  }

  bool hold_next_dma() override {
    std::lock_guard<std::mutex> g(lock_);
    hold_ = Hold::armed;
    return true;
  }

  void reset() override {
    std::lock_guard<std::mutex> g(lock_);
    for (int i = 0; i < 2; i++) {
      Engine &e = eng_[i];
      bool cut = e.running || e.cut;  // a cut stream stays cut until it starts again
      if (e.running && i == 0) cut_at_ = e.played_until;
      stop(i, e);
      Engine fresh;
      fresh.gen = e.gen;  // a DMA in flight stays outdated
      fresh.cut = cut;
      fresh.hw = cut ? e.hw : 0;  // where the cut engine stopped
      e = fresh;
    }
    intr_ = raised_ = 0;
    if (!eng_[1].cut) cap_pos_ = 0;
    if (!eng_[0].cut) close_wav();  // else kept open (its header written by stop) for the stream to go on
  }

 private:

  void load_capture(const std::string &path) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) throw std::invalid_argument("pcm: cannot open capture file '" + path + "'");
    std::vector<uint8_t> b;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) b.insert(b.end(), chunk, chunk + n);
    fclose(f);
    auto bad = [&](const char *why) { return std::invalid_argument("pcm: capture file '" + path + "': " + why); };
    if (b.size() < 12 || memcmp(b.data(), "RIFF", 4) || memcmp(b.data() + 8, "WAVE", 4)) throw bad("not a RIFF/WAVE file");
    bool fmt = false;
    for (size_t off = 12; off + 8 <= b.size();) {
      uint32_t len = get32(&b[off + 4]);
      const uint8_t *body = &b[off + 8];
      if (len > b.size() - off - 8) len = (uint32_t)(b.size() - off - 8);
      if (!memcmp(&b[off], "fmt ", 4)) {
        if (len < 16) throw bad("short fmt chunk");
        if (get16(body) != 1 || get16(body + 14) != 16) throw bad("not 16-bit PCM");
        cap_channels_ = get16(body + 2);
        cap_rate_ = get32(body + 4);
        fmt = true;
      } else if (!memcmp(&b[off], "data", 4)) {
        if (!fmt) throw bad("data before fmt");
        cap_data_.assign(body, body + len);
        has_capture_ = true;
        return;
      }
      off += 8 + len + (len & 1);
    }
    throw bad("no data chunk");
  }

  // open_wav, write_header, close_wav_locked: with wav_lock_ held.
  bool open_wav(const Engine &e) {
    if (wav_ && wav_rate_ == e.rate && wav_channels_ == e.channels) return true;  // the stream goes on
    close_wav_locked();
    wav_ = fopen(playback_path_.c_str(), "wb");
    if (!wav_) return false;
    wav_rate_ = e.rate;
    wav_channels_ = e.channels;
    wav_bytes_ = 0;
    write_header();
    return true;
  }

  void write_header() {
    uint8_t h[44];
    memcpy(h, "RIFF", 4);
    put32(h + 4, 36 + wav_bytes_);
    memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16);
    put16(h + 20, 1);
    put16(h + 22, (uint16_t)wav_channels_);
    put32(h + 24, wav_rate_);
    put32(h + 28, wav_rate_ * wav_channels_ * 2);
    put16(h + 32, (uint16_t)(wav_channels_ * 2));
    put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put32(h + 40, wav_bytes_);
    fseek(wav_, 0, SEEK_SET);
    fwrite(h, 1, sizeof h, wav_);
    fseek(wav_, 0, SEEK_END);
    fflush(wav_);
  }

  void write_played(const uint8_t *buf, uint32_t bytes) {
    std::lock_guard<std::mutex> g(wav_lock_);
    if (!wav_) return;
    fwrite(buf, 1, bytes, wav_);
    wav_bytes_ += bytes;
  }

  void close_wav() {
    std::lock_guard<std::mutex> g(wav_lock_);
    close_wav_locked();
  }

  void close_wav_locked() {
    if (!wav_) return;
    write_header();
    fclose(wav_);
    wav_ = nullptr;
  }

  // With lock_ held. `resume`: go on with the stream a reset cut, if there is one.
  void start(int which, Engine &e, bool resume) {
    bool resumes = resume && e.cut;
    e.gen++;
    e.running = false;
    e.status = 0;
    const char *why = nullptr;
    if (which == 0 && playback_path_.empty()) why = "no playback on this device";
    else if (which == 1 && !has_capture_) why = "no capture on this device";
    else if (e.format != 2) why = "format must be 2 (S16_LE)";
    else if (e.rate < 4000 || e.rate > 192000) why = "rate outside 4000..192000";
    else if (e.channels < 1 || e.channels > 8) why = "channels outside 1..8";
    else if (!e.period || e.period % (e.channels * 2) || !e.size || e.size > kMaxRing || e.size % e.period) why = "bad ring: SIZE must be a multiple of PERIOD, PERIOD of the frame size";
    else if (which == 1 && (e.rate != cap_rate_ || e.channels != cap_channels_)) why = "capture format differs from the capture file's";
    if (why) {
      report_error("%s engine not started: %s", which ? "capture" : "playback", why);
      e.status = 2;
      return;
    }
    auto now = Clock::now();
    if (which == 0) {
      std::lock_guard<std::mutex> g(wav_lock_);
      bool goes_on = resumes && wav_ && wav_rate_ == e.rate && wav_channels_ == e.channels;
      if (e.cut && !resumes) close_wav_locked();  // a new stream after a reset: a new file, as at power-on
      if (!open_wav(e)) {
        report_error("cannot write playback file '%s'", playback_path_.c_str());
        e.status = 2;
        return;
      }
      if (goes_on) {
        unsigned frame = wav_bytes_ / (wav_channels_ * 2);
        double cut_ms = std::chrono::duration<double, std::milli>(now - cut_at_).count();
        klog_event(6, {"playback-resumed", {{"device", name}, {"frame", frame}, {"cutMs", cut_ms}}},
                   "%s: playback resumed at frame %u after a cut of %.1f ms", name.c_str(), frame, cut_ms);
      }
    }
    e.hw = 0;
    if (which == 1 && !resumes) cap_pos_ = 0;  // capture plays the file from its start
    e.cut = false;
    e.running = true;
    e.t0 = e.played_until = now;
    e.frames_since_t0 = 0;
    cv_.notify_all();
  }

  void stop(int which, Engine &e) {
    e.gen++;
    e.running = false;
    if (which == 0) {
      std::lock_guard<std::mutex> g(wav_lock_);
      if (wav_) write_header();
    }
  }

  // One step of an engine: what to move now (with lock_ held).
  struct Step {
    bool any = false;
    int which;
    uint64_t gen, bus;
    uint32_t bytes, volume, hw, size, period;
    Clock::time_point end;  // when the frames moved end playing
  };
  Step plan(int which, Engine &e, Clock::time_point now) {
    Step s{};
    if (!e.running) return s;
    uint32_t fb = e.channels * 2;
    uint64_t due = (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(now - e.t0).count() * e.rate / 1000000000ull;
    uint64_t want = due > e.frames_since_t0 ? due - e.frames_since_t0 : 0;
    uint32_t avail = (e.appl - e.hw) / fb;  // free-running counts
    if (avail > e.size / fb) avail = 0;     // a limit behind the position: nothing to do
    uint32_t off = e.hw % e.size;
    uint32_t contiguous = (e.size - off) / fb;
    uint32_t n = (uint32_t)std::min<uint64_t>({want, avail, contiguous});
    if (avail < want && n == avail) {  // starved: no backlog builds up while the ring is empty
      e.t0 = now;
      e.frames_since_t0 = 0;
    } else {
      e.frames_since_t0 += n;
    }
    if (!n) return s;
    s = {true, which, e.gen, e.addr + off, n * fb, e.volume, e.hw, e.size, e.period,
         e.t0 + std::chrono::nanoseconds(e.frames_since_t0 * 1000000000ull / e.rate)};
    return s;
  }

  void loop() {
    std::vector<uint8_t> buf;
    std::unique_lock<std::mutex> g(lock_);
    while (!quit_) {
      cv_.wait_for(g, std::chrono::milliseconds(2));
      if (quit_) break;
      if (hold_ == Hold::passed) {  // the held step is over, its DMA included
        hold_ = Hold::none;
        klog_event(6, {"test-dma-hold-passed", {{"device", name}}}, "%s: test hold: the held DMA's step is over", name.c_str());
      }
      for (int which = 0; which < 2; which++) {
        // read after the other engine's step, which let go of lock_: an engine started meanwhile must not be
        // planned from a time before its start (a negative age would move its whole ring at once)
        Step s = plan(which, eng_[which], Clock::now());
        if (!s.any) continue;
        if (hold_ == Hold::armed) hold_until_released(g);
        buf.resize(s.bytes);
        bool ok;
        {
          // The DMA under lock_, for the engine as planned: a reset (the driver's recovery or unload tears its
          // devices down first) outdates it, and no DMA of a stream it cut reaches the driver's memory after
          // (the restarted driver's now, or freed). DMA into hugepages may wait for the driver to leave its code
          // (mprotect): the mprotect lock first, as a driver's thread, inside its crossing, takes it before lock_.
          g.unlock();
          DmaAccess access(*this);
          g.lock();
          if (eng_[which].gen != s.gen) continue;  // stopped, reprogrammed or reset meanwhile
          if (which == 0) {
            ok = dma_read(s.bus, buf.data(), s.bytes);
          } else {
            for (uint32_t i = 0; i < s.bytes; i++) buf[i] = cap_pos_ + i < cap_data_.size() ? cap_data_[cap_pos_ + i] : 0;
            scale(buf.data(), s.bytes, s.volume);
            ok = dma_write(s.bus, buf.data(), s.bytes);
          }
        }
        if (which == 0 && ok) scale(buf.data(), s.bytes, s.volume);
        Engine &e = eng_[which];
        if (!ok) {
          e.running = false;
          e.status = 2;
          intr_ |= kIntrError;
        } else {
          // played only now that the engine is known to be the same: a reset meanwhile keeps its position exact
          if (which == 0) write_played(buf.data(), s.bytes);
          if (which == 1) cap_pos_ += s.bytes;
          uint32_t before = e.hw / e.period, after = (e.hw + s.bytes) / e.period;
          e.hw += s.bytes;
          e.played_until = s.end;
          if (after != before) intr_ |= 1u << which;
        }
        if (intr_ & ~raised_) {
          raised_ = intr_;
          g.unlock();
          raise_irq();
          g.lock();
        }
      }
    }
  }

  // Test hook (hold_next_dma): with lock_ held, given up while it waits.
  void hold_until_released(std::unique_lock<std::mutex> &g) {
    klog_event(6, {"test-dma-held", {{"device", name}}}, "%s: test hold: a planned DMA waits for the driver to let go of the device",
               name.c_str());
    for (int ms = 0; ms < 10000 && domain.load() >= 0; ms++) cv_.wait_for(g, std::chrono::milliseconds(1));
    hold_ = Hold::passed;
  }

  std::mutex lock_;
  std::condition_variable cv_;
  bool quit_ = false;
  enum class Hold { none, armed, passed } hold_ = Hold::none;  // test hook (hold_next_dma)
  Engine eng_[2];
  uint32_t intr_ = 0;
  uint32_t raised_ = 0;  // status bits interrupted for and not yet acknowledged
  std::thread thread_;

  std::string playback_path_;
  std::mutex wav_lock_;  // after lock_ when both are taken
  FILE *wav_ = nullptr;
  uint32_t wav_rate_ = 0, wav_channels_ = 0, wav_bytes_ = 0;
  Clock::time_point cut_at_;  // when the playback a reset cut had played up to

  bool has_capture_ = false;
  uint32_t cap_rate_ = 0, cap_channels_ = 0;
  std::vector<uint8_t> cap_data_;
  size_t cap_pos_ = 0;
};

DeviceKind kind("pcm", [](const DeviceOptions &o) -> std::unique_ptr<EmulatedDevice> { return std::make_unique<PcmDevice>(o); });

}  // namespace
}  // namespace nooks

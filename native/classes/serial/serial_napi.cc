// The serial class's N-API functions (lib/classes/serial.ts): open, write,
// read and configure ports; port events through the class's JS pump;
// and for tests and tools a null-modem pair of ptys and the termios of a tty.
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "../../addon.h"
#include "../../dev/bus.h"
#include "../../kapi/subsystems.h"
#include "../common/js_pump.h"
#include "serial_class.h"
#include "uart16550.h"

using namespace nooks;

namespace {

SerialHandle handle_arg(const Napi::CallbackInfo &info) {
  return {info[0].As<Napi::Number>().Int32Value(), (uint64_t)info[1].As<Napi::Number>().Int64Value()};
}

// Runs f; a SerialError comes out as a JavaScript Error with its `code` and, if it is about a failure of the driver, its
// `fault` (which lib/classes/serial.ts hands to the recovery agent).
template <typename F>
auto guarded(Napi::Env env, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const SerialError &e) {
    Napi::Error err = Napi::Error::New(env, e.what());
    err.Set("code", e.code);
    if (!e.failure.driver.empty()) err.Set("fault", failure_value(env, e.failure));
    throw err;
  }
}

Napi::Value SerialPorts(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  for (const SerialPortInfo &p : serial_ports()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("line", p.line);
    o.Set("name", p.name);
    o.Set("device", p.device);
    o.Set("driver", p.driver);
    o.Set("attached", p.attached);
    o.Set("open", p.open);
    o.Set("restarting", p.restarting);
    o.Set("rxBytes", (double)p.rx_bytes);
    o.Set("txBytes", (double)p.tx_bytes);
    o.Set("rxDropped", (double)p.rx_dropped);
    a.Set(a.Length(), o);
  }
  return a;
}

Napi::Value SerialOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  SerialHandle h = guarded(env, [&] { return serial_open(info[0].As<Napi::String>()); });
  Napi::Object o = Napi::Object::New(env);
  o.Set("line", h.line);
  o.Set("gen", (double)h.gen);
  return o;
}

Napi::Value SerialClose(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), (double)guarded(info.Env(), [&] { return serial_close(handle_arg(info)); }));
}

Napi::Value SerialWrite(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array b = info[2].As<Napi::Uint8Array>();
  size_t n = guarded(env, [&] { return serial_write(handle_arg(info), b.Data(), b.ByteLength()); });
  return Napi::Number::New(env, (double)n);
}

Napi::Value SerialRead(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t max = info[2].IsUndefined() ? 1 << 20 : (size_t)info[2].As<Napi::Number>().Int64Value();
  std::vector<uint8_t> v = guarded(env, [&] { return serial_read(handle_arg(info), max); });
  return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
}

Napi::Value SerialSetTermios(const Napi::CallbackInfo &info) {
  Napi::Object o = info[2].As<Napi::Object>();
  SerialTermios t;
  t.baud = o.Get("baud").As<Napi::Number>().Uint32Value();
  t.data_bits = o.Get("dataBits").As<Napi::Number>().Uint32Value();
  t.stop_bits = o.Get("stopBits").As<Napi::Number>().Uint32Value();
  t.parity = o.Get("parity").As<Napi::Number>().Uint32Value();
  t.flow = o.Get("flow").As<Napi::Number>().Uint32Value();
  guarded(info.Env(), [&] { serial_set_termios(handle_arg(info), t); });
  return info.Env().Undefined();
}

Napi::Value SerialSetMctrl(const Napi::CallbackInfo &info) {
  guarded(info.Env(), [&] { serial_set_mctrl(handle_arg(info), info[2].As<Napi::Number>().Uint32Value()); });
  return info.Env().Undefined();
}

Napi::Value SerialGetMctrl(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), guarded(info.Env(), [&] { return serial_get_mctrl(handle_arg(info)); }));
}

Napi::Value SerialTxIdle(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), guarded(info.Env(), [&] { return serial_tx_idle(handle_arg(info)); }));
}

struct EventMsg {
  int line;
  uint64_t gen;
  SerialEvent e;
  std::string code, why;
  DriverFailure failure;
};
// Never destroyed: kernel threads may still send events while the process exits.
std::mutex &g_events_lock = *new std::mutex;  // a leaf
std::vector<EventMsg> &g_events = *new std::vector<EventMsg>;  // from kernel threads, for the JS thread

void drain_events(Napi::Env env);
// Unreferenced: open ports do not keep the process alive by themselves.
JsPump &g_pump = *new JsPump(drain_events, "nooks-serial");

// The JS thread: every port event in order; the class's own `restore` runs here (outside any crossing).
void drain_events(Napi::Env env) {
  g_pump.drained();
  std::vector<EventMsg> events;
  {
    std::lock_guard<std::mutex> g(g_events_lock);
    events.swap(g_events);
  }
  static const char *names[] = {"", "rx", "space", "drained", "detached", "failed"};
  for (EventMsg &m : events) {
    if (m.e == SerialEvent::restore) serial_restore(m.line);
    else g_pump.deliver({Napi::Number::New(env, m.line), Napi::Number::New(env, (double)m.gen), Napi::String::New(env, names[(int)m.e]),
                         Napi::String::New(env, m.code), Napi::String::New(env, m.why), failure_value(env, m.failure)});
  }
}

// The kernel shut down: its ports' events (a restore above all) are not for the next kernel's ports.
void reset_events(napi_env env) {
  {
    std::lock_guard<std::mutex> g(g_events_lock);
    g_events.clear();
  }
  g_pump.reset(env);
}
ClassReset class_reset(reset_events);

// setListener(fn(line, gen, event, code, why, fault?)): events 'rx', 'space', 'drained', 'detached', 'failed' (these two
// with their error, and the failure of the driver that detached the port, if one did).
Napi::Value SerialSetListener(const Napi::CallbackInfo &info) {
  g_pump.init(info.Env(), info[0].As<Napi::Function>());
  serial_set_listener([](int line, uint64_t gen, SerialEvent e, const std::string &code, const std::string &why, const DriverFailure &failure) {
    {
      std::lock_guard<std::mutex> g(g_events_lock);
      g_events.push_back({line, gen, e, code, why, failure});
    }
    g_pump.kick();
  });
  return info.Env().Undefined();
}

// ---- a null modem: two ptys whose masters are joined by a thread ----------
// Each end is a pty slave, a real tty: one for the UART's line, one for the
// application's serialport. Bytes written to one end are read at the other.
// A side whose reader is slower holds the writer, as a tty does: what the
// thread read and could not pass on yet waits with it, and that end is not read
// meanwhile (its writes wait in its tty), never dropped.
struct NullModem {
  int m[2] = {-1, -1}, s[2] = {-1, -1};
  int wake = -1;
  std::thread thread;
};
std::mutex g_modems_lock;
std::map<int, NullModem *> g_modems;
int g_next_modem = 1;

// Bytes read from one master, not yet written to the other.
struct Carried {
  uint8_t buf[4096];
  size_t off = 0, len = 0;
  bool empty() const { return off == len; }
};

void modem_loop(NullModem *nm) {
  Carried c[2];  // c[i]: from m[i] to m[1 - i]
  for (;;) {
    pollfd p[3] = {{nm->wake, POLLIN, 0}, {nm->m[0], 0, 0}, {nm->m[1], 0, 0}};
    for (int i = 0; i < 2; i++) {
      if (c[i].empty()) p[1 + i].events |= POLLIN;
      else p[2 - i].events |= POLLOUT;  // m[1 - i]
    }
    // a pty master's POLLOUT may come late: a full side is tried again every 10 ms
    if (poll(p, 3, c[0].empty() && c[1].empty() ? 100 : 10) < 0 && errno != EINTR) return;
    if (p[0].revents & POLLIN) return;
    for (int i = 0; i < 2; i++) {
      Carried &x = c[i];
      if (x.empty() && (p[1 + i].revents & POLLIN)) {
        ssize_t n = read(nm->m[i], x.buf, sizeof x.buf);
        x.off = 0;
        x.len = n > 0 ? (size_t)n : 0;
      }
      while (!x.empty()) {
        ssize_t w = write(nm->m[1 - i], x.buf + x.off, x.len - x.off);
        if (w <= 0) break;  // the other side's tty is full (EAGAIN): the next round tries again
        x.off += (size_t)w;
      }
    }
  }
}

// openpty without libutil: posix_openpt and friends are in every libc.
bool open_pty(int *master, int *slave, char *name, size_t size) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return false;
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, size) != 0) {
    close(m);
    return false;
  }
  int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    close(m);
    return false;
  }
  *master = m;
  *slave = s;
  return true;
}

Napi::Value SerialPtyPair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto *nm = new NullModem;
  char names[2][128];
  for (int i = 0; i < 2; i++) {
    if (!open_pty(&nm->m[i], &nm->s[i], names[i], sizeof names[i])) {
      std::string err = strerror(errno);
      for (int j = 0; j < i; j++) close(nm->m[j]), close(nm->s[j]);
      delete nm;
      throw_code(env, "EPTY", std::string("cannot make a pty: ") + err);
    }
    termios t;
    tcgetattr(nm->s[i], &t);
    cfmakeraw(&t);
    tcsetattr(nm->s[i], TCSANOW, &t);
    fcntl(nm->m[i], F_SETFL, O_NONBLOCK);
    fcntl(nm->m[i], F_SETFD, FD_CLOEXEC);
    fcntl(nm->s[i], F_SETFD, FD_CLOEXEC);
  }
  nm->wake = eventfd(0, EFD_CLOEXEC);
  nm->thread = std::thread(modem_loop, nm);
  int id;
  {
    std::lock_guard<std::mutex> g(g_modems_lock);
    id = g_next_modem++;
    g_modems[id] = nm;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", id);
  o.Set("a", names[0]);
  o.Set("b", names[1]);
  return o;
}

Napi::Value SerialPtyPairClose(const Napi::CallbackInfo &info) {
  NullModem *nm = nullptr;
  {
    std::lock_guard<std::mutex> g(g_modems_lock);
    auto it = g_modems.find(info[0].As<Napi::Number>().Int32Value());
    if (it != g_modems.end()) {
      nm = it->second;
      g_modems.erase(it);
    }
  }
  if (nm) {
    uint64_t one = 1;
    if (write(nm->wake, &one, sizeof one) < 0) {}
    nm->thread.join();
    for (int i = 0; i < 2; i++) close(nm->m[i]), close(nm->s[i]);
    close(nm->wake);
    delete nm;
  }
  return info.Env().Undefined();
}

// ttyAttributes(path): the termios of a tty as the application sees it.
Napi::Value TtyAttributes(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw_code(env, "ENOENT", path + ": " + strerror(errno));
  termios t;
  int rc = tcgetattr(fd, &t);
  int err = errno;
  close(fd);
  if (rc != 0) throw_code(env, "ENOTTY", path + ": " + strerror(err));
  static const struct { speed_t s; uint32_t baud; } speeds[] = {
      {B50, 50}, {B75, 75}, {B110, 110}, {B134, 134}, {B150, 150}, {B200, 200}, {B300, 300}, {B600, 600},
      {B1200, 1200}, {B1800, 1800}, {B2400, 2400}, {B4800, 4800}, {B9600, 9600}, {B19200, 19200},
      {B38400, 38400}, {B57600, 57600}, {B115200, 115200}, {B230400, 230400}};
  uint32_t baud = 0;
  for (auto &s : speeds)
    if (cfgetospeed(&t) == s.s) baud = s.baud;
  Napi::Object o = Napi::Object::New(env);
  o.Set("baudRate", baud);
  static const int sizes[] = {5, 6, 7, 8};
  o.Set("dataBits", sizes[(t.c_cflag & CSIZE) == CS5 ? 0 : (t.c_cflag & CSIZE) == CS6 ? 1 : (t.c_cflag & CSIZE) == CS7 ? 2 : 3]);
  const char *parity = "none";
  if (t.c_cflag & PARENB) {
    if (t.c_cflag & CMSPAR) parity = t.c_cflag & PARODD ? "mark" : "space";
    else parity = t.c_cflag & PARODD ? "odd" : "even";
  }
  o.Set("parity", parity);
  o.Set("stopBits", t.c_cflag & CSTOPB ? 2 : 1);
  o.Set("rtscts", (t.c_cflag & CRTSCTS) != 0);
  return o;
}

// The device a test hook below names by its bus index.
EmulatedDevice *device_arg(const Napi::CallbackInfo &info) { return bus_device(info[0].As<Napi::Number>().Int32Value()); }

// found: what a uart16550_* query returned; a wrong index throws rather than reads as a count of 0.
void require_uart16550(Napi::Env env, bool found) {
  if (!found) throw_code(env, "EINVAL", "no uart16550 device with that index");
}

// uartLineSettings(deviceIndex): what the UART model last asked of its tty.
Napi::Value UartLineSettings(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  nooks::UartLineSettings s;
  require_uart16550(env, uart16550_line_settings(device_arg(info), &s));
  Napi::Object o = Napi::Object::New(env);
  o.Set("baudRate", s.baud);
  o.Set("dataBits", s.data_bits);
  o.Set("parity", s.parity);
  o.Set("stopBits", s.stop_bits);
  return o;
}

// uartRxLost(deviceIndex): bytes received from the line that the UART discarded (a driver restart loses some).
Napi::Value UartRxLost(const Napi::CallbackInfo &info) {
  uint64_t n = 0;
  require_uart16550(info.Env(), uart16550_rx_lost(device_arg(info), &n));
  return Napi::Number::New(info.Env(), (double)n);
}

// uartRxHeld(deviceIndex): bytes the UART's receive FIFO holds now.
Napi::Value UartRxHeld(const Napi::CallbackInfo &info) {
  size_t n = 0;
  require_uart16550(info.Env(), uart16550_rx_held(device_arg(info), &n));
  return Napi::Number::New(info.Env(), (double)n);
}

// uartTxHeld(deviceIndex): bytes the UART sent that its tty has not taken yet.
Napi::Value UartTxHeld(const Napi::CallbackInfo &info) {
  size_t n = 0;
  require_uart16550(info.Env(), uart16550_tx_held(device_arg(info), &n));
  return Napi::Number::New(info.Env(), (double)n);
}

// serialHoldRestoreForRx(id): test hook (serial_hold_restore_for_rx).
Napi::Value SerialHoldRestoreForRx(const Napi::CallbackInfo &info) {
  serial_hold_restore_for_rx(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// serialHoldRegister(name): test hook (serial_hold_register_for_test).
Napi::Value SerialHoldRegister(const Napi::CallbackInfo &info) {
  serial_hold_register_for_test(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

// serialSetRxBuffer(bytes?): test hook (serial_set_rx_buffer_for_test); without bytes, the default again.
Napi::Value SerialSetRxBuffer(const Napi::CallbackInfo &info) {
  serial_set_rx_buffer_for_test(info[0].IsUndefined() ? 0 : (size_t)info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

#include "addon/serial.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace

// The sound class: the N-API functions behind lib/classes/sound.ts (open a
// stream, write, read, drain, close, the mixer, status, the list of pcms).
#include <algorithm>
#include <cstring>

#include "../../addon.h"
#include "../../dev/bus.h"
#include "../../dev/device.h"
#include "../../shadow/shadow.h"
#include "../../trap/host_signals.h"
#include "pcm_core.h"

namespace nooks {
namespace sound_class {
namespace {

int g_next_handle = 1;

std::shared_ptr<Stream> handle_arg(const Napi::CallbackInfo &info) {
  int h = info[0].As<Napi::Number>().Int32Value();
  auto it = g_streams.find(h);
  if (it == g_streams.end()) throw_code(info.Env(), "EBADF", "no open PCM stream with handle " + std::to_string(h) + " (closed?)");
  return it->second;
}

[[noreturn]] void throw_stream_error(Napi::Env env, Stream &s) {
  std::string code, msg;
  {
    std::lock_guard<std::mutex> g(s.lock);
    code = s.error_code;
    msg = s.error;
  }
  throw_code(env, code, msg);
}

// Takes a closed (or never opened) stream out of every pcm's open[] that holds it: its holder, and s.pcm, which a
// restart's resume (resume_locked) leaves holding it until the restore moves s.pcm on. Under g_lock.
void release_claims(Stream &s) {
  for (Pcm *p : {s.pcm.get(), s.holder.get()})
    if (p && p->open[s.dir].get() == &s) p->open[s.dir] = nullptr;
}

// Undo what open did on the driver's side; the stream's resources go.
void teardown_stream(const std::shared_ptr<Stream> &s, bool call_driver) {
  {
    std::lock_guard<std::mutex> g(s->lock);
    s->stop = true;
    s->cv.notify_all();
  }
  if (s->thread.joinable()) s->thread.join();
  const Pcm &p = *s->pcm;
  bool gone, parked;
  {
    std::lock_guard<std::mutex> g(s->lock);
    parked = s->parked;  // the driver does not know a parked stream
  }
  {
    std::lock_guard<std::mutex> g(g_lock);
    gone = p.gone;
  }
  if (call_driver && !gone && !parked) {
    Op op;
    uint64_t r;
    if (s->started) trigger(*s, SNDRV_PCM_TRIGGER_STOP, op);
    cross(p, p.ops.close(p.key, s->dir), &r, op);
  }
  {
    std::lock_guard<std::mutex> g(g_lock);
    // parked on a later registration before its restore, the stream is in that one's open[] (its holder) and
    // still in s->pcm's, which holds it back (a cycle: neither freed): out of both
    release_claims(*s);
  }
  if (s->tsfn_live) {
    s->tsfn_live = false;
    s->tsfn.Release();
  }
}

// A new stream's set-up on its pcm's driver: open, hw_params and prepare, the mixer if a restart reset the
// device under a shadow's copy of it, a capture's start. False with op set; what it opened on the driver is closed.
bool set_up_new(Stream &s, Op &op) {
  Pcm &p = *s.pcm;
  if (!driver_setup(s, op, nullptr, &s.area)) return false;
  bool mixer_lost;
  {
    std::lock_guard<std::mutex> g(g_lock);
    mixer_lost = p.mixer_lost[s.dir];
  }
  bool ok = !mixer_lost || apply_mixer(s, op);
  if (ok && mixer_lost) {
    std::lock_guard<std::mutex> g(g_lock);
    p.mixer_lost[s.dir] = false;
  }
  ok = ok && (s.dir != SNDRV_PCM_STREAM_CAPTURE || start_stream(s, false, op));
  if (!ok && !op.down) {
    Op ignored;
    uint64_t r;
    cross(p, p.ops.close(p.key, s.dir), &r, ignored);
  }
  return ok;
}

// open(name, 'playback'|'capture', rate, channels, periodFrames, periods, onEvent) -> handle
Napi::Value PcmOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  std::string dirs = info[1].As<Napi::String>();
  uint32_t rate = info[2].As<Napi::Number>().Uint32Value(), channels = info[3].As<Napi::Number>().Uint32Value();
  uint32_t period_frames = info[4].As<Napi::Number>().Uint32Value(), periods = info[5].As<Napi::Number>().Uint32Value();
  int dir = dirs == "capture" ? SNDRV_PCM_STREAM_CAPTURE : SNDRV_PCM_STREAM_PLAYBACK;
  if (rate < 4000 || rate > 192000) throw_code(env, "EINVAL", "rate " + std::to_string(rate) + " Hz: outside 4000..192000");
  if (channels < 1 || channels > 8) throw_code(env, "EINVAL", "channels " + std::to_string(channels) + ": outside 1..8");
  if (period_frames < 16 || period_frames > 65536) throw_code(env, "EINVAL", "periodFrames outside 16..65536");
  if (periods < 2 || periods > 64) throw_code(env, "EINVAL", "periods outside 2..64");

  auto s = std::make_shared<Stream>();
  std::shared_ptr<Pcm> p;
  std::string known;
  bool parked;  // the shadow keeps the pcm for its driver's return: the stream opens parked, set up at the restore
  {
    std::lock_guard<std::mutex> g(g_lock);
    auto it = g_pcms.find(name);
    if (it != g_pcms.end()) p = it->second;
    for (auto &kv : g_pcms) known += (known.empty() ? "" : ", ") + kv.first;
    auto kept = g_parked.find(name);
    parked = !p && kept != g_parked.end();
    if (parked) p = kept->second;
    std::optional<Ended> ended = p ? std::nullopt : shadow_ended(ObjectType::pcm, name);
    if (ended) throw_code(env, "ENODEV", ended->message);  // as every class's open of a device the shadow ended
  }
  if (!p) {  // not with g_lock held: the bus lock comes first (probe registers pcms)
    for (const DeviceInfo &dev : bus_devices())
      if (dev.name == name && dev.kind == "pcm")
        throw_code(env, "ENOTREADY", name + ": device not ready: " +
                                         (dev.domain < 0 ? "no driver is bound to it" : "its driver has not registered it"));
    throw_code(env, "ENODEV", "no PCM device '" + name + "' (registered: " + (known.empty() ? "none" : known) + ")");
  }
  {
    std::lock_guard<std::mutex> g(g_lock);
    auto kept = g_parked.find(name);
    bool kept_now = kept != g_parked.end() && kept->second == p;
    if (parked && !kept_now)  // meanwhile resumed, ended, or parked again as another
      throw_code(env, "ENOTREADY", name + ": device not ready: its driver is restarting");
    parked = kept_now;  // also when the failed driver's teardown parked it since the look above
    if (p->gone && !parked) throw_code(env, "ENODEV", name + ": device gone");
    if (!(p->streams & (1u << dir))) throw_code(env, "EINVAL", name + " has no " + dirs + " stream");
    if (p->open[dir]) throw_code(env, "EBUSY", name + ": its " + dirs + " stream is open already");
    // parked: before the claim publishes the stream (a restore or the shadow's end may follow at once)
    s->parked = parked;
    s->start_engine = parked && dir == SNDRV_PCM_STREAM_CAPTURE;
    p->open[dir] = s;  // claimed; undone below on failure
    s->holder = p;
  }
  s->id = g_next_handle++;
  s->pcm = p;
  s->dir = dir;
  s->fb = channels * 2;
  s->bytes = period_frames * s->fb * periods;
  s->params = {rate, channels, SNDRV_PCM_FORMAT_S16_LE, s->fb, period_frames * s->fb, s->bytes};
  s->q.resize(std::max<size_t>(4 * (size_t)s->bytes, (size_t)rate * s->fb / 2));
  Op op;
  auto fail = [&] {  // undo the claim and throw
    {
      std::lock_guard<std::mutex> g(g_lock);
      release_claims(*s);  // p, and the pcm a restart moved it onto
    }
    throw_code(env, op.code, op.err);
  };
  // parked: its restore sets it up on the restarted driver, mixer included
  if (!parked && !set_up_new(*s, op)) {
    // The driver failed before the open or in it: under a shadow the stream is kept as those open at the
    // failure are (its claim is among the pcm's streams the teardown parks, or has parked) and set up by the
    // restore. Else the open fails (set_up_new closed what it opened on the driver). No restart carried the
    // claim onto a new registration (resume_locked) since the claim: a registration follows the restart or
    // the fallback's load, which run on this thread (JavaScript's).
    if (!kept_for_restore(*p, op)) fail();
    bool ended;
    {
      std::lock_guard<std::mutex> g(g_lock);
      std::lock_guard<std::mutex> sg(s->lock);
      s->parked = true;
      s->area = nullptr;
      s->start_engine = dir == SNDRV_PCM_STREAM_CAPTURE;
      ended = !s->error.empty();  // the shadow ended it meanwhile
      if (ended) op = {s->error_code, s->error};
    }
    if (ended) fail();
  }
  s->last_progress = std::chrono::steady_clock::now();
  s->tsfn = Napi::ThreadSafeFunction::New(env, info[6].As<Napi::Function>(), "nooks-pcm", 0, 1);
  s->tsfn_live = true;
  s->thread = kernel_thread(stream_loop, s.get());
  g_streams[s->id] = s;
  return Napi::Number::New(env, s->id);
}

// write(handle, buffer) -> bytes taken into the queue (whole frames; 0 when full)
Napi::Value PcmWrite(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto s = handle_arg(info);
  if (s->dir != SNDRV_PCM_STREAM_PLAYBACK) throw_code(env, "EINVAL", "write() on a capture stream");
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  std::unique_lock<std::mutex> g(s->lock);
  if (!s->error.empty()) {
    g.unlock();
    throw_stream_error(env, *s);
  }
  size_t n = std::min(b.Length(), s->q.size() - s->qlen);
  n -= n % s->fb;
  for (size_t done = 0; done < n;) {
    size_t tail = (s->qhead + s->qlen) % s->q.size();
    size_t chunk = std::min(n - done, s->q.size() - tail);
    memcpy(s->q.data() + tail, b.Data() + done, chunk);
    s->qlen += chunk;
    done += chunk;
  }
  if (n) {
    s->finished = false;
    s->kick = true;
    s->cv.notify_all();
  }
  // the rest waits for room: half the queue at least, one event for it
  if (n < b.Length()) s->want = std::min(b.Length() - n, s->q.size() / 2);
  return Napi::Number::New(env, (double)n);
}

// read(handle, bytes) -> a Buffer of whole frames (up to `bytes`) once min(bytes, half the queue) are there, else null (an event comes when they are)
Napi::Value PcmRead(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto s = handle_arg(info);
  if (s->dir != SNDRV_PCM_STREAM_CAPTURE) throw_code(env, "EINVAL", "read() on a playback stream");
  size_t bytes = (size_t)info[1].As<Napi::Number>().Int64Value();
  if (bytes < s->fb) throw_code(env, "EINVAL", "read() of less than a frame");
  std::unique_lock<std::mutex> g(s->lock);
  size_t need = std::min(bytes, s->q.size() / 2);
  need -= need % s->fb;
  if (s->qlen < need) {
    if (!s->error.empty()) {
      g.unlock();
      throw_stream_error(env, *s);
    }
    s->want = need;
    return env.Null();
  }
  size_t n = std::min(bytes, s->qlen);
  n -= n % s->fb;
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, n);
  for (size_t done = 0; done < n;) {
    size_t chunk = std::min(n - done, s->q.size() - s->qhead);
    memcpy(out.Data() + done, s->q.data() + s->qhead, chunk);
    s->qhead = (s->qhead + chunk) % s->q.size();
    s->qlen -= chunk;
    done += chunk;
  }
  s->kick = true;  // room in the queue: the ring can be emptied further
  s->cv.notify_all();
  return out;
}

Napi::Value PcmDrain(const Napi::CallbackInfo &info) {
  auto s = handle_arg(info);
  std::unique_lock<std::mutex> g(s->lock);
  if (!s->error.empty()) {
    g.unlock();
    throw_stream_error(info.Env(), *s);
  }
  s->draining = true;
  s->finished = false;
  s->kick = true;
  s->cv.notify_all();
  return info.Env().Undefined();
}

Napi::Value PcmClose(const Napi::CallbackInfo &info) {
  auto s = handle_arg(info);
  g_streams.erase(s->id);
  teardown_stream(s, true);
  return info.Env().Undefined();
}

// mixer(handle, volume 0..100 or -1 to keep it, mute true/false or null to keep it): the device's
// mixer for the stream's direction; it stays as set for later streams.
Napi::Value PcmMixer(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto s = handle_arg(info);
  int64_t want_vol = info[1].As<Napi::Number>().Int64Value();
  if (want_vol > 100 || want_vol < -1) throw_code(env, "EINVAL", "volume " + std::to_string(want_vol) + ": outside 0..100");
  std::shared_ptr<Pcm> p;
  bool parked, dead;
  uint32_t vol;
  bool mute;
  {
    std::lock_guard<std::mutex> g(g_lock);  // s->pcm changes under it
    std::lock_guard<std::mutex> sg(s->lock);
    parked = s->parked;
    dead = !s->error.empty();
    p = parked ? s->holder : s->pcm;  // parked: the pcm the shadow keeps, whose mixer its restore gives the driver
    vol = want_vol < 0 ? p->volume[s->dir] : (uint32_t)want_vol;
    mute = info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : p->muted[s->dir];
    if (parked && !dead && p->ops.has_mixer()) {  // the shadow answers for the driver: recorded, given to it at the restore
      p->volume[s->dir] = vol;
      p->muted[s->dir] = mute;
      s->mixer_pending = true;
    }
  }
  if (!p->ops.has_mixer()) throw_code(env, "ENOTSUP", p->name + " has no mixer");
  if (dead) throw_stream_error(env, *s);
  if (!parked) {
    Op op;
    // A driver that failed under a shadow, its teardown not yet parking the stream: recorded as when parked (on
    // the pcm the shadow keeps, whose restore gives the restarted driver the mixer).
    if (!set_mixer(*p, s->dir, vol, mute, op) && !kept_for_restore(*p, op)) throw_code(env, op.code, op.err);
    // p still holds the stream, parked since at most (resume_locked copies its mixer): the registration that
    // would move the stream on follows the restart or the fallback's load, which run on this thread (JavaScript's).
    std::lock_guard<std::mutex> g(g_lock);
    p->volume[s->dir] = vol;
    p->muted[s->dir] = mute;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("volume", vol);
  o.Set("muted", mute);
  return o;
}

Napi::Value PcmStatus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto s = handle_arg(info);
  std::lock_guard<std::mutex> g(s->lock);
  Napi::Object o = Napi::Object::New(env);
  uint32_t in_ring = s->dir == SNDRV_PCM_STREAM_PLAYBACK ? s->appl - s->hw : s->hw - s->appl;  // playback: also in the queue
  o.Set("framesDone", (double)s->frames_done);
  o.Set("framesQueued", (double)((s->qlen - (s->dir == SNDRV_PCM_STREAM_PLAYBACK ? in_ring : 0)) / s->fb));
  o.Set("framesInRing", (double)(in_ring / s->fb));
  o.Set("running", s->started);
  o.Set("restarting", s->parked && s->error.empty());  // a stream the shadow ended (or whose restore failed) waits for nothing
  o.Set("error", s->error.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s->error)));
  return o;
}

Napi::Value PcmList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  std::lock_guard<std::mutex> g(g_lock);
  for (auto &kv : g_pcms) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", kv.first);
    o.Set("driver", kv.second->driver);
    o.Set("playback", (kv.second->streams & SND_PCM_PLAYBACK_BIT) != 0);
    o.Set("capture", (kv.second->streams & SND_PCM_CAPTURE_BIT) != 0);
    a.Set(a.Length(), o);
  }
  return a;
}

// pcmHoldDma(device): test hook: the emulated pcm's next DMA waits for its driver to let go of it.
Napi::Value PcmHoldDma(const Napi::CallbackInfo &info) {
  EmulatedDevice *dev = bus_device_named(info[0].As<Napi::String>());
  return Napi::Boolean::New(info.Env(), dev && dev->hold_next_dma());  // only the pcm model holds its DMA
}

// pcmHoldRestore(device): test hook (hold_restore_for_test, pcm_stream.cc).
Napi::Value PcmHoldRestore(const Napi::CallbackInfo &info) {
  std::lock_guard<std::mutex> g(g_lock);
  g_hold_restore.insert(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

// pcmHoldRegister(device): test hook (hold_register_for_test, pcm_kapi.cc).
Napi::Value PcmHoldRegister(const Napi::CallbackInfo &info) {
  std::lock_guard<std::mutex> g(g_lock);
  g_hold_register.insert(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

// pcmHoldDownCrossing(device): test hook (hold_down_crossing_for_test, pcm_stream.cc).
Napi::Value PcmHoldDownCrossing(const Napi::CallbackInfo &info) {
  std::lock_guard<std::mutex> g(g_lock);
  g_hold_down.insert(info[0].As<Napi::String>().Utf8Value());
  g_hold_down_armed.store(true, std::memory_order_relaxed);
  return info.Env().Undefined();
}

#include "addon/sound.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace
}  // namespace sound_class
}  // namespace nooks

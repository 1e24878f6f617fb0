// The sound class, kernel side: PCM registrations from drivers
// (snd_pcm_register, lib/wrappers/kapi/sound.ts), the streams applications
// open on them, and the data path between the two.
//
// Data path (never JavaScript per period): an application's write() copies a
// batch of frames (many periods) into the stream's queue, in host memory. A
// class thread per stream moves them into the driver's DMA ring as the
// hardware frees it: woken by snd_pcm_period_elapsed (the driver's interrupt)
// it asks the driver's pointer(), copies into the ring, and tells the driver
// how far the hardware may go (ack). JavaScript hears about progress through
// a thread-safe function, at most once per wakeup, never blocking a driver
// thread. Capture is the mirror image: captured frames go to JavaScript in
// batches.
//
// Recovery: the registration is a tracked object (ObjectType::pcm); when the
// driver fails, its release ends every stream open on it with "device gone"
// (applications get an error, never a hang), and the restarted driver
// registers the pcm again for new opens.
//
// Shadow driver (native/shadow; the driver's policy says `shadow`): the
// release parks the pcm instead. What a stream needs to be rebuilt is what the
// class keeps anyway, nothing logged per period: its hw_params, whether it
// runs, its position, the frames written and not yet played (the queue keeps
// them until the hardware has played them, so it holds a copy of the ring),
// and the mixer. While parked the stream takes writes (up to its queue's
// size), reads and drain() wait, mixer changes are recorded. When the
// restarted driver registers the pcm again, the stream's thread restores it
// once the driver runs: open, the same hw_params, pointer() (where the reset
// cut the old engine: the device keeps that position), prepare, the mixer,
// and trigger RESUME if it was running, from exactly the frame the hardware
// got to. If the driver does not come back (the policy gives up, or it is
// unloaded), the parked streams end with "device gone" and the reason.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../../addon.h"
#include "../../dev/bus.h"
#include "../../domain/host_heap.h"
#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../shadow/taps.h"
#include <nooks/sound.h>

static_assert(sizeof(struct snd_pcm) == 32, "lib/wrappers/kapi/sound.ts checks 32 bytes of struct snd_pcm");

using namespace nooks;

namespace {

constexpr uint32_t kDefaultMaxBuffer = 1u << 20;
constexpr auto kReregisterLimit = std::chrono::milliseconds(2000);  // a restarted driver's time to register its pcm again
using Clock = std::chrono::steady_clock;

struct Stream;

// A registration: what the kernel copied out of the driver's struct snd_pcm.
struct Pcm {
  int domain;
  uint64_t gen;   // the driver's failure generation at registration: no crossing into a driver that failed since
  uintptr_t key;  // the struct snd_pcm in the driver
  std::string name, driver;
  SndPcmOps ops;  // the driver's, reachable only through taps
  uint32_t streams, max_buffer;
  bool gone = false;                // unregistered or released (guarded by g_lock)
  std::shared_ptr<Stream> open[2];  // guarded by g_lock
  // set by hw_params (snd_pcm_set_buffer), guarded by g_lock
  uint8_t *area[2] = {};
  uint32_t area_bytes[2] = {};
  snd_pcm_runtime *rt[2] = {};      // in the host-object heap: the driver reads it
  // the mixer: a property of the device, kept across streams (guarded by g_lock)
  uint32_t volume[2] = {100, 100};
  bool muted[2] = {false, false};
  bool mixer_lost[2] = {false, false};  // the device was reset since (a shadow kept the values): set again at the next open
};

// One event for JavaScript: only when it waits for something (room, data, the
// end of a drain) and that is there, never one per period.
struct Event {
  std::string type;  // space | data | drained | error
  double frames = 0;
  std::string code, message;
};

struct Stream {
  int id;
  std::shared_ptr<Pcm> pcm;  // changed by the stream's thread only (a restore), under g_lock: others read it there
  int dir;
  snd_pcm_runtime params;  // its hw_params
  uint32_t fb, bytes;      // frame bytes, ring bytes
  uint8_t *area = nullptr;  // the DMA ring; null while parked

  std::mutex lock;  // after the mprotect lock (DomainMemoryAccess) and g_lock
  std::condition_variable cv;
  bool stop = false, kick = false, elapsed = false, draining = false, finished = false;
  std::string error_code, error;  // set once: the stream is dead
  // the queue between the application and the DMA ring, in host memory:
  // frames written and not yet played (playback: the first appl - hw bytes are
  // also in the ring), or captured and not yet read
  std::vector<uint8_t> q;
  size_t qhead = 0, qlen = 0;
  // JavaScript waits for this much room (playback) or data (capture): one event when there is, not one per period
  size_t want = 0;
  // positions: free-running byte counts since prepare
  uint32_t hw = 0, appl = 0, last_ptr = 0;
  uint64_t frames_done = 0;  // played or captured, in all
  bool started = false;         // the engine runs (stream thread only)
  bool restart_engine = false;  // a restore has yet to start the engine the failure stopped (stream thread only)
  std::chrono::steady_clock::time_point last_progress;
  // the shadow: parked while its driver restarts; `resume` is the pcm the restarted driver registered
  bool parked = false, mixer_pending = false;  // mixer_pending: changed while parked, not yet given to the driver
  std::shared_ptr<Pcm> resume;
  Clock::time_point parked_at;

  Napi::ThreadSafeFunction tsfn;
  bool tsfn_live = false;
  std::thread thread;
};

// Never destroyed: stream threads may still run while the process exits.
std::mutex &g_lock = *new std::mutex;
std::map<std::string, std::shared_ptr<Pcm>> &g_pcms = *new std::map<std::string, std::shared_ptr<Pcm>>;
std::map<int, std::shared_ptr<Stream>> &g_streams = *new std::map<int, std::shared_ptr<Stream>>;  // by handle (JS thread only)
// by name: shadowed pcms whose driver is restarting, with their open streams and mixer (guarded by g_lock)
std::map<std::string, std::shared_ptr<Pcm>> &g_parked = *new std::map<std::string, std::shared_ptr<Pcm>>;
int g_next_handle = 1;

std::shared_ptr<Pcm> pcm_of(Domain *d, uintptr_t key) {
  for (auto &kv : g_pcms)
    if (kv.second->domain == d->id && kv.second->key == key) return kv.second;
  return nullptr;
}

// Ends a stream with an error (once) and wakes its thread.
void fail_stream(Stream &s, const std::string &code, const std::string &msg) {
  std::lock_guard<std::mutex> g(s.lock);
  if (!s.error.empty()) return;
  s.error_code = code;
  s.error = msg;
  s.cv.notify_all();
}

// With g_lock held: the driver's copies of the stream configurations go (the driver does).
void free_runtimes(Pcm &p) {
  for (int dir = 0; dir < 2; dir++) {
    if (p.rt[dir]) host_heap_free(p.rt[dir]);
    p.rt[dir] = nullptr;
    p.area[dir] = nullptr;
  }
}

// With g_lock held: the pcm is no more; its streams end.
void drop_locked(Pcm &p, const char *why) {
  p.gone = true;
  for (auto &s : p.open)
    if (s) fail_stream(*s, "ENODEV", p.name + ": device gone (" + why + ")");
  free_runtimes(p);
  g_pcms.erase(p.name);
}

// With g_lock held: the shadow keeps the pcm's name, mixer and open streams for the restarted driver.
void park_locked(const std::shared_ptr<Pcm> &p) {
  p->gone = true;
  free_runtimes(*p);
  g_pcms.erase(p->name);
  g_parked[p->name] = p;
  int n = 0;
  for (auto &s : p->open)
    if (s) {
      std::lock_guard<std::mutex> g(s->lock);
      s->parked = true;
      s->resume = nullptr;
      s->area = nullptr;  // the ring goes with the driver's DMA memory; the queue still holds its frames
      s->parked_at = Clock::now();
      n++;
    }
  klog(4, "sound: %s: driver %s failed: shadowed, %d open stream%s kept for its restart", p->name.c_str(), p->driver.c_str(), n,
       n == 1 ? "" : "s");
}

// With g_lock held: the restarted driver registered the parked pcm again as p. It gets the mixer the shadow
// kept and the parked streams; their threads restore them on it once the driver runs (we are inside its init).
void resume_locked(Pcm &old, const std::shared_ptr<Pcm> &p) {
  for (int dir = 0; dir < 2; dir++) {
    p->volume[dir] = old.volume[dir];
    p->muted[dir] = old.muted[dir];
    const std::shared_ptr<Stream> &s = old.open[dir];
    if (!s) {
      p->mixer_lost[dir] = old.mixer_lost[dir] || old.volume[dir] != 100 || old.muted[dir];
      continue;
    }
    p->open[dir] = s;
    std::lock_guard<std::mutex> g(s->lock);
    s->resume = p;
    s->cv.notify_all();
  }
}

// ObjectType::pcm release at recovery or unload: the driver's registration goes (or is parked, when shadowed).
ObjectRelease release(ObjectType::pcm, [](Domain *d, const Object &o) {
  std::lock_guard<std::mutex> g(g_lock);
  auto p = pcm_of(d, o.key);
  if (!p) return;
  if (shadow_parks(d)) return park_locked(p);
  drop_locked(*p, ("driver " + d->name + " failed or unloaded").c_str());
});

// The agent gave up on a shadowed driver (or it was unloaded): its parked streams end, saying why.
ShadowGiveUp give_up([](Domain *d, const std::string &why) {
  std::lock_guard<std::mutex> g(g_lock);
  for (auto it = g_parked.begin(); it != g_parked.end();) {
    Pcm &p = *it->second;
    if (p.domain != d->id) {
      ++it;
      continue;
    }
    for (auto &s : p.open)
      if (s) fail_stream(*s, "ENODEV", p.name + ": device gone (the driver failed and will not be restarted: " + why + ")");
    it = g_parked.erase(it);
  }
});

Domain *domain_of(const Pcm &p) { return p.domain >= 0 && p.domain < kMaxDomains ? g_domains[p.domain] : nullptr; }

// Whether p's registration is live and its driver runs (a restarted driver runs once its init has returned).
bool runs(const Pcm &p) {
  Domain *d = domain_of(p);
  return d && d->state.load() == DomainState::running && d->failure_gen.load() == p.gen;
}

// What a crossing that did not happen says, and whether the driver's failure is the shadow's to hide.
struct Op {
  std::string code, err;
  bool down = false;  // the driver could not be reached, or failed: no answer of its own
};

// One crossing into the driver's op. False (and op says why) if the driver
// cannot be reached or faulted: a fault goes to the recovery thread.
bool cross(const Pcm &p, const OpCall &call, uint64_t *ret, Op &op) {
  Domain *d = domain_of(p);
  op.down = true;
  op.code = "ENODEV";
  if (!d) {
    op.err = p.name + ": device gone (its driver is unloaded)";
    return false;
  }
  if (d->failure_gen.load() != p.gen) {  // the registration of a driver that failed since: never into its successor
    op.err = p.name + ": device gone (driver " + d->name + " failed)";
    return false;
  }
  Fault f;
  switch (op_cross(d, call, &f, ret)) {
    case EnterResult::ok: op.down = false; return true;
    case EnterResult::unavailable: {
      DomainState st = d->state.load();
      // a stream outlives no failure of its driver: the registration goes with it
      if (st == DomainState::loading) op.code = "ENOTREADY";
      op.err = p.name + (st == DomainState::loading ? ": device not ready" : ": device gone") + " (driver " + d->name + " is " +
               state_name(st) + ")";
      return false;
    }
    case EnterResult::fault:
      recovery_notify(d, f);
      fault_describe(&f);
      op.err = p.name + ": device gone (driver " + d->name + " failed: " + f.message + ")";
      return false;
  }
  return false;
}

// Whether a stream whose crossing found its driver down waits for the shadow's restore (else it ends).
bool shadowed(const Pcm &p) {
  Domain *d = domain_of(p);
  return d && shadow_parks(d);
}

// A driver answer the kernel cannot use: the driver is failed, as a bad call would.
void driver_bug(const Pcm &p, const std::string &what) {
  Domain *d = g_domains[p.domain];
  if (!d || !mark_failed(d)) return;
  Fault f;
  f.kind = FaultKind::bad_call;
  f.domain = d->id;
  f.primary = true;
  f.generation = d->failure_gen.load();
  snprintf(f.message, sizeof f.message, "%s", what.c_str());
  record_primary_fault(f);
  klog(3, "sound: %s: %s", p.name.c_str(), what.c_str());
  recovery_notify(d, f);
}

void emit(Stream &s, Event *e) {
  if (!s.tsfn_live) {
    delete e;
    return;
  }
  napi_status st = s.tsfn.NonBlockingCall(e, [](Napi::Env env, Napi::Function fn, Event *e) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", e->type);
    o.Set("frames", e->frames);
    if (e->type == "error") {
      o.Set("code", e->code);
      o.Set("message", e->message);
    }
    delete e;
    fn.Call({o});
  });
  if (st != napi_ok) delete e;
}

// ---- the class thread of a stream ------------------------------------------

// Playback: queue -> ring, as far as the hardware allows (in flight < the ring).
// The frames stay in the queue until played (update_hw): the shadow's copy of the ring.
bool fill(Stream &s) {
  DomainMemoryAccess access;  // this thread is in no crossing
  std::lock_guard<std::mutex> g(s.lock);
  if (!s.error.empty() || !s.area) return false;
  uint32_t in_ring = s.appl - s.hw;
  size_t n = std::min<size_t>(s.bytes - s.fb - in_ring, s.qlen - in_ring);
  n -= n % s.fb;
  size_t qoff = (s.qhead + in_ring) % s.q.size();
  for (size_t done = 0; done < n;) {
    uint32_t off = s.appl % s.bytes;
    size_t chunk = std::min<size_t>({n - done, s.bytes - off, s.q.size() - qoff});
    memcpy(s.area + off, s.q.data() + qoff, chunk);
    qoff = (qoff + chunk) % s.q.size();
    s.appl += (uint32_t)chunk;
    done += chunk;
  }
  return n > 0;
}

// Capture: ring -> queue, as much as the queue takes. Returns bytes moved.
uint32_t drain_ring(Stream &s) {
  DomainMemoryAccess access;
  std::lock_guard<std::mutex> g(s.lock);
  if (!s.error.empty() || !s.area) return 0;
  uint32_t n = (uint32_t)std::min<size_t>(s.hw - s.appl, s.q.size() - s.qlen);  // appl: what the class has read
  n -= n % s.fb;
  for (uint32_t done = 0; done < n;) {
    uint32_t off = s.appl % s.bytes;
    size_t tail = (s.qhead + s.qlen) % s.q.size();
    uint32_t chunk = (uint32_t)std::min<size_t>({(size_t)(n - done), (size_t)(s.bytes - off), s.q.size() - tail});
    memcpy(s.q.data() + tail, s.area + off, chunk);
    s.qlen += chunk;
    s.appl += chunk;
    done += chunk;
  }
  return n;
}

// Where the hardware is now (pointer()); false if the stream died.
bool update_hw(Stream &s, Op &op) {
  const Pcm &p = *s.pcm;
  uint64_t ptr;
  if (!cross(p, p.ops.pointer(p.key, s.dir), &ptr, op)) return false;
  uint32_t frames = s.bytes / s.fb;
  if (ptr >= frames) {
    driver_bug(p, "pointer() returned frame " + std::to_string(ptr) + ", outside the ring of " + std::to_string(frames) + " frames");
    op = {"ENODEV", p.name + ": device gone (driver returned a bad hardware position)", true};
    return false;
  }
  uint32_t delta = (uint32_t)((ptr + frames - s.last_ptr) % frames);
  s.last_ptr = (uint32_t)ptr;
  if (delta) {
    std::lock_guard<std::mutex> g(s.lock);
    uint32_t bytes = delta * s.fb;
    if (s.dir == SNDRV_PCM_STREAM_PLAYBACK) {  // played: out of the queue (never more than the ring held)
      bytes = std::min(bytes, s.appl - s.hw);
      s.qhead = (s.qhead + bytes) % s.q.size();
      s.qlen -= bytes;
    }
    s.hw += bytes;
    s.frames_done += bytes / s.fb;
    s.last_progress = std::chrono::steady_clock::now();
  }
  return true;
}

bool ack(Stream &s, uint32_t limit, Op &op) {
  uint64_t r;
  if (!cross(*s.pcm, s.pcm->ops.ack(s.pcm->key, s.dir, limit), &r, op)) return false;
  if ((int)r < 0) {
    op.code = "EIO";
    op.err = s.pcm->name + ": the driver refused the new position (" + std::to_string((int)r) + ")";
    return false;
  }
  return true;
}

bool trigger(Stream &s, int cmd, Op &op) {
  uint64_t r;
  if (!cross(*s.pcm, s.pcm->ops.trigger(s.pcm->key, s.dir, (uint64_t)cmd), &r, op)) return false;
  if ((int)r == -EINVAL && cmd == SNDRV_PCM_TRIGGER_RESUME) return trigger(s, SNDRV_PCM_TRIGGER_START, op);  // no resume: start
  if ((int)r < 0) {
    const char *what = cmd == SNDRV_PCM_TRIGGER_STOP ? "stop" : cmd == SNDRV_PCM_TRIGGER_START ? "start" : "resume";
    op.code = "EIO";
    op.err = s.pcm->name + ": trigger " + what + " failed (" + std::to_string((int)r) + "): see the kernel log";
    return false;
  }
  return true;
}

// Gives the hardware the ring (filled, for playback) and triggers it: the start
// of a stream, or (`resume`) its continuation after a shadow's restore.
bool start_stream(Stream &s, bool resume, Op &op) {
  uint32_t limit;
  if (s.dir == SNDRV_PCM_STREAM_PLAYBACK) {
    fill(s);
    limit = s.appl;
  } else {
    limit = s.appl + s.bytes - s.fb;
  }
  if (!ack(s, limit, op) || !trigger(s, resume ? SNDRV_PCM_TRIGGER_RESUME : SNDRV_PCM_TRIGGER_START, op)) return false;
  s.started = true;
  s.last_progress = std::chrono::steady_clock::now();
  return true;
}

bool set_mixer(const Pcm &p, int dir, uint32_t volume, bool mute, Op &op) {
  uint64_t r;
  if (!cross(p, p.ops.mixer(p.key, dir, volume, mute), &r, op)) return false;
  if ((int)r < 0) {
    op = {"EIO", p.name + ": mixer failed (" + std::to_string((int)r) + ")"};
    return false;
  }
  return true;
}

// The mixer of the stream's direction, as the class keeps it, to the driver: at a restore (the reset put the
// device back at 100, unmuted), and for changes the application made while the stream was parked.
bool apply_mixer(Stream &s, Op &op) {
  const Pcm &p = *s.pcm;
  if (!p.ops.has_mixer()) return true;
  uint32_t volume;
  bool mute;
  {
    std::lock_guard<std::mutex> g(g_lock);
    volume = p.volume[s.dir];
    mute = p.muted[s.dir];
    std::lock_guard<std::mutex> sg(s.lock);
    s.mixer_pending = false;
  }
  return set_mixer(p, s.dir, volume, mute, op);
}

// Opens the stream on its pcm's driver: open, hw_params (s.params), prepare; for a new stream and again at a
// shadow's restore. `stopped_at` (a restore) also asks pointer() after hw_params: where the reset cut the old
// engine (the device keeps that position until the engine is programmed). False with op set; a driver that
// refused a step after open closes the stream again.
bool driver_setup(Stream &s, Op &op, uint64_t *stopped_at, uint8_t **area) {
  Pcm &p = *s.pcm;
  uint64_t dir = (uint64_t)s.dir, r;
  snd_pcm_runtime *rt = nullptr;
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (s.bytes > p.max_buffer) {
      op = {"EINVAL", p.name + ": a ring of " + std::to_string(s.bytes) + " bytes is more than the driver takes (" + std::to_string(p.max_buffer) + ")"};
      return false;
    }
    if (!p.rt[dir]) p.rt[dir] = (snd_pcm_runtime *)host_heap_alloc(sizeof(snd_pcm_runtime));
    if ((rt = p.rt[dir])) *rt = s.params;
    p.area[dir] = nullptr;
  }
  if (!rt) {
    op = {"ENOMEM", "host-object heap exhausted"};
    return false;
  }
  bool opened = false;
  auto close = [&] {
    Op ignored;
    cross(p, p.ops.close(p.key, dir), &r, ignored);
  };
  auto step = [&](const OpCall &call) {
    if (!cross(p, call, &r, op)) return false;  // unreachable or failed: nothing to undo
    if ((int)r >= 0) return opened = true;
    op = {"EIO", p.name + ": " + tap_name(call.tap) + " failed (" + std::to_string((int)r) + "): see the kernel log"};
    if (opened) close();
    return false;
  };
  if (!step(p.ops.open(p.key, dir)) || !step(p.ops.hw_params(p.key, dir, (uintptr_t)rt)))
    return false;
  {
    std::lock_guard<std::mutex> g(g_lock);
    *area = p.area[dir];
  }
  if (!*area) {
    close();
    op = {"EIO", p.name + ": the driver's hw_params gave no DMA ring (snd_pcm_set_buffer)"};
    return false;
  }
  if (stopped_at && !cross(p, p.ops.pointer(p.key, dir), stopped_at, op)) return false;
  return step(p.ops.prepare(p.key, dir));
}

// The shadow's restore, on the stream's thread once the restarted driver runs: the stream opened again with
// its hw_params, going on from the frame the hardware got to (none played twice, none skipped), its mixer back,
// and running again if it ran. False with op set (the stream then ends, unless the driver failed again).
bool restore(Stream &s, Op &op) {
  {
    std::lock_guard<std::mutex> g(g_lock);
    std::lock_guard<std::mutex> sg(s.lock);
    s.pcm = std::move(s.resume);
    s.resume = nullptr;
  }
  uint64_t ptr = 0;
  uint8_t *area;
  if (!driver_setup(s, op, s.started ? &ptr : nullptr, &area)) return false;
  // What the cut engine moved since the class last asked: played (playback), or captured into the lost ring.
  uint32_t moved = 0;
  if (s.started) {
    uint32_t at = (uint32_t)(ptr % (s.bytes / s.fb)) * s.fb;
    moved = std::min((at + s.bytes - s.hw % s.bytes) % s.bytes, s.dir == SNDRV_PCM_STREAM_PLAYBACK ? s.appl - s.hw : s.bytes - s.fb);
  }
  uint64_t taken = 0, lost = 0;  // capture: frames the class had taken, and frames the ring took with it
  {
    std::lock_guard<std::mutex> g(s.lock);
    if (s.dir == SNDRV_PCM_STREAM_PLAYBACK) {
      s.qhead = (s.qhead + moved) % s.q.size();
      s.qlen -= moved;
    } else {
      taken = s.frames_done - (s.hw - s.appl) / s.fb;
      lost = (s.hw + moved - s.appl) / s.fb;
    }
    s.frames_done += moved / s.fb;
    s.hw = s.appl = s.last_ptr = 0;  // positions count from the new prepare
    s.area = area;
    s.restart_engine |= s.started;
    s.started = false;
  }
  if (!apply_mixer(s, op)) return false;
  bool frames_left;
  {
    std::lock_guard<std::mutex> g(s.lock);
    frames_left = s.dir == SNDRV_PCM_STREAM_CAPTURE || s.qlen >= s.fb;
  }
  if (s.restart_engine && frames_left && !start_stream(s, true, op)) return false;
  s.restart_engine = false;
  {
    std::lock_guard<std::mutex> g(s.lock);
    s.parked = false;
    s.kick = true;
  }
  const char *name = s.pcm->name.c_str();
  klog(6, "sound: %s: %s stream restored on the restarted driver at frame %llu%s", name,
       s.dir == SNDRV_PCM_STREAM_PLAYBACK ? "playback" : "capture", (unsigned long long)s.frames_done, s.started ? ", running" : "");
  if (lost)
    klog(4, "sound: %s: %llu captured frames after frame %llu were lost with the failed driver's ring", name,
         (unsigned long long)lost, (unsigned long long)taken);
  return true;
}

// One pass of a playback stream. False when the stream died (op says why).
// The nanny: a stream that should move and has not for the driver's stallMs
// means a driver that stopped working without faulting (a pointer that no
// longer moves, periods not acknowledged): it is failed ('stalled') and
// recovered; its shadow, if any, resumes the stream.
void nanny(Stream &s, const char *what) {
  Domain *d = domain_of(*s.pcm);
  if (!d || std::chrono::steady_clock::now() - s.last_progress <= std::chrono::milliseconds(d->stall_ms.load())) return;
  s.last_progress = std::chrono::steady_clock::now();  // once per deadline
  klog(4, "%s: %s made no progress for %lu ms: the nanny fails %s", s.pcm->name.c_str(), what, (unsigned long)d->stall_ms.load(),
       d->name.c_str());
  recovery_fail(d, FaultKind::stalled, s.pcm->name + ": the " + what + " stream made no progress for " +
                                           std::to_string(d->stall_ms.load()) + " ms (nanny)");
}

bool service_playback(Stream &s, Op &op) {
  uint64_t before = s.frames_done;
  bool draining;
  {
    std::lock_guard<std::mutex> g(s.lock);
    draining = s.draining;
  }
  if (!s.started) {
    size_t have;
    {
      std::lock_guard<std::mutex> g(s.lock);
      have = s.qlen - (s.appl - s.hw);
    }
    // start threshold: a full ring, or all there is
    if ((have >= s.bytes - s.fb || (draining && have >= s.fb)) && !start_stream(s, false, op)) return false;
  } else {
    if (!update_hw(s, op)) return false;
    uint32_t appl = s.appl;
    fill(s);
    if (s.appl != appl && !ack(s, s.appl, op)) return false;
  }
  bool done;
  {
    std::lock_guard<std::mutex> g(s.lock);
    done = s.draining && s.qlen < s.fb && s.hw == s.appl;
  }
  if (s.frames_done != before) {
    bool room;
    {
      std::lock_guard<std::mutex> g(s.lock);
      room = s.want && s.q.size() - s.qlen >= s.want;
      if (room) s.want = 0;
    }
    if (room) emit(s, new Event{"space", (double)s.frames_done});
  }
  if (done && (s.started || !s.finished)) {
    if (s.started && !trigger(s, SNDRV_PCM_TRIGGER_STOP, op)) return false;
    s.started = false;
    {
      std::lock_guard<std::mutex> g(s.lock);
      s.draining = false;
      s.qlen = 0;  // a partial frame left over is dropped
    }
    s.finished = true;
    emit(s, new Event{"drained", (double)s.frames_done});
  }
  if (s.started && s.hw != s.appl) nanny(s, "playback");
  return true;
}

bool service_capture(Stream &s, Op &op) {
  if (!update_hw(s, op)) return false;
  uint32_t limit = s.appl + s.bytes - s.fb;
  if (drain_ring(s) && !ack(s, limit = s.appl + s.bytes - s.fb, op)) return false;
  bool ready;
  {
    std::lock_guard<std::mutex> g(s.lock);
    ready = s.want && s.qlen >= s.want;
    if (ready) s.want = 0;
  }
  if (ready) emit(s, new Event{"data", (double)s.frames_done});
  if (s.hw != limit) nanny(s, "capture");  // the device was allowed to move (room in the ring)
  return true;
}

void stream_loop(Stream *s) {
  for (;;) {
    bool parked, restoring, mixer;
    {
      std::unique_lock<std::mutex> g(s->lock);
      // parked: woken when the restarted driver registers the pcm, then polled until it runs (its init returned)
      bool polling = s->parked && s->resume;
      s->cv.wait_for(g, std::chrono::milliseconds(polling ? 1 : 20), [&] {
        if (s->stop || !s->error.empty()) return true;
        if (!s->parked) return s->kick || s->elapsed || s->mixer_pending;
        return s->resume && (!polling || runs(*s->resume));
      });
      if (s->stop) return;
      s->kick = s->elapsed = false;
      if (!s->error.empty()) break;
      parked = s->parked;
      restoring = parked && s->resume && runs(*s->resume);
      mixer = s->mixer_pending;
    }
    Op op;
    bool ok = true;
    if (restoring) {
      ok = restore(*s, op);
    } else if (parked) {  // a driver that came back without registering the pcm again within 2 s
      Domain *d = domain_of(*s->pcm);
      if (d && d->state.load() == DomainState::running && Clock::now() - s->parked_at > kReregisterLimit)
        fail_stream(*s, "ENODEV", s->pcm->name + ": device gone (driver " + d->name + " restarted without registering it again)");
    } else {
      ok = s->dir == SNDRV_PCM_STREAM_PLAYBACK ? service_playback(*s, op) : service_capture(*s, op);
      if (ok && mixer) ok = apply_mixer(*s, op);
    }
    // a driver that failed under a shadow: the stream waits to be parked and restored; else it ends
    if (!ok && !(op.down && shadowed(*s->pcm))) fail_stream(*s, op.code, op.err);
  }
  // The stream died: tell JavaScript once, then wait to be closed.
  Event *e = new Event{"error", (double)s->frames_done};
  {
    std::lock_guard<std::mutex> g(s->lock);
    e->code = s->error_code;
    e->message = s->error;
  }
  emit(*s, e);
  // A dead stream keeps the process alive no longer (an application that
  // never closes it can still exit); close() joins this thread.
  s->tsfn_live = false;
  s->tsfn.Release();
  std::unique_lock<std::mutex> g(s->lock);
  s->cv.wait(g, [&] { return s->stop; });
}

// ---- N-API: what lib/classes/sound.ts calls --------------------------------

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
  std::shared_ptr<Pcm> resume;
  {
    std::lock_guard<std::mutex> g(s->lock);
    parked = s->parked;  // the driver does not know a parked stream
    resume = s->resume;
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
    for (Pcm *q : {s->pcm.get(), resume.get()})
      if (q && q->open[s->dir] == s) q->open[s->dir] = nullptr;
  }
  if (s->tsfn_live) {
    s->tsfn_live = false;
    s->tsfn.Release();
  }
}

// open(name, 'playback'|'capture', rate, channels, periodFrames, periods, onEvent) -> handle
Napi::Value Open(const Napi::CallbackInfo &info) {
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
  bool parked;
  {
    std::lock_guard<std::mutex> g(g_lock);
    auto it = g_pcms.find(name);
    if (it != g_pcms.end()) p = it->second;
    for (auto &kv : g_pcms) known += (known.empty() ? "" : ", ") + kv.first;
    parked = g_parked.count(name);
  }
  if (!p && parked) throw_code(env, "ENOTREADY", name + ": device not ready: its driver is restarting");
  if (!p) {  // not with g_lock held: the bus lock comes first (probe registers pcms)
    for (const DeviceInfo &dev : bus_devices())
      if (dev.name == name && dev.kind == "pcm")
        throw_code(env, "ENOTREADY", name + ": device not ready: " +
                                         (dev.domain < 0 ? "no driver is bound to it" : "its driver has not registered it (restarting?)"));
    throw_code(env, "ENODEV", "no PCM device '" + name + "' (registered: " + (known.empty() ? "none" : known) + ")");
  }
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (p->gone) throw_code(env, "ENODEV", name + ": device gone");
    if (!(p->streams & (1u << dir))) throw_code(env, "EINVAL", name + " has no " + dirs + " stream");
    if (p->open[dir]) throw_code(env, "EBUSY", name + ": its " + dirs + " stream is open already");
    p->open[dir] = s;  // claimed; undone below on failure
  }
  s->id = g_next_handle++;
  s->pcm = p;
  s->dir = dir;
  s->fb = channels * 2;
  s->bytes = period_frames * s->fb * periods;
  s->params = {rate, channels, SNDRV_PCM_FORMAT_S16_LE, s->fb, period_frames * s->fb, s->bytes};
  s->q.resize(std::max<size_t>(4 * (size_t)s->bytes, (size_t)rate * s->fb / 2));
  Op op;
  auto fail = [&](bool close) {  // undo the claim (and the driver's open) and throw
    uint64_t r;
    Op ignored;
    if (close) cross(*p, p->ops.close(p->key, dir), &r, ignored);
    {
      std::lock_guard<std::mutex> g(g_lock);
      if (p->open[dir] == s) p->open[dir] = nullptr;
    }
    throw_code(env, op.code, op.err);
  };
  if (!driver_setup(*s, op, nullptr, &s->area)) fail(false);
  bool mixer_lost;
  {
    std::lock_guard<std::mutex> g(g_lock);
    mixer_lost = p->mixer_lost[dir];
  }
  if (mixer_lost) {  // a shadow kept the mixer across a restart that reset the device
    if (!apply_mixer(*s, op)) fail(!op.down);
    std::lock_guard<std::mutex> g(g_lock);
    p->mixer_lost[dir] = false;
  }
  if (dir == SNDRV_PCM_STREAM_CAPTURE && !start_stream(*s, false, op)) fail(!op.down);
  s->last_progress = std::chrono::steady_clock::now();
  s->tsfn = Napi::ThreadSafeFunction::New(env, info[6].As<Napi::Function>(), "nooks-pcm", 0, 1);
  s->tsfn_live = true;
  s->thread = std::thread(stream_loop, s.get());
  g_streams[s->id] = s;
  return Napi::Number::New(env, s->id);
}

// write(handle, buffer) -> bytes taken into the queue (whole frames; 0 when full)
Napi::Value Write(const Napi::CallbackInfo &info) {
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
Napi::Value Read(const Napi::CallbackInfo &info) {
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

Napi::Value Drain(const Napi::CallbackInfo &info) {
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

Napi::Value Close(const Napi::CallbackInfo &info) {
  auto s = handle_arg(info);
  g_streams.erase(s->id);
  teardown_stream(s, true);
  return info.Env().Undefined();
}

// mixer(handle, volume 0..100 or -1 to keep it, mute true/false or null to keep it): the device's
// mixer for the stream's direction; it stays as set for later streams.
Napi::Value Mixer(const Napi::CallbackInfo &info) {
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
    p = parked && s->resume ? s->resume : s->pcm;  // parked: the pcm its restore will use
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
    if (!set_mixer(*p, s->dir, vol, mute, op)) throw_code(env, op.code, op.err);
    std::lock_guard<std::mutex> g(g_lock);
    p->volume[s->dir] = vol;
    p->muted[s->dir] = mute;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("volume", vol);
  o.Set("muted", mute);
  return o;
}

Napi::Value Status(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto s = handle_arg(info);
  std::lock_guard<std::mutex> g(s->lock);
  Napi::Object o = Napi::Object::New(env);
  uint32_t in_ring = s->dir == SNDRV_PCM_STREAM_PLAYBACK ? s->appl - s->hw : s->hw - s->appl;  // playback: also in the queue
  o.Set("framesDone", (double)s->frames_done);
  o.Set("framesQueued", (double)((s->qlen - (s->dir == SNDRV_PCM_STREAM_PLAYBACK ? in_ring : 0)) / s->fb));
  o.Set("framesInRing", (double)(in_ring / s->fb));
  o.Set("running", s->started);
  o.Set("restarting", s->parked);
  o.Set("error", s->error.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s->error)));
  return o;
}

Napi::Value List(const Napi::CallbackInfo &info) {
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

AddonExports exports_([](Napi::Env env, Napi::Object exports) {
  exports.Set("pcmOpen", Napi::Function::New(env, Open));
  exports.Set("pcmWrite", Napi::Function::New(env, Write));
  exports.Set("pcmRead", Napi::Function::New(env, Read));
  exports.Set("pcmDrain", Napi::Function::New(env, Drain));
  exports.Set("pcmClose", Napi::Function::New(env, Close));
  exports.Set("pcmMixer", Napi::Function::New(env, Mixer));
  exports.Set("pcmStatus", Napi::Function::New(env, Status));
  exports.Set("pcmList", Napi::Function::New(env, List));
});

}  // namespace

// ---- the kernel calls (lib/wrappers/kapi/sound.ts) --------------------------

extern "C" int kapi_nooks_snd_pcm_register(void *arg) {
  Domain *d = calling_domain();
  auto *pcm = static_cast<snd_pcm *>(arg);
  if (!pcm->pdev || !d->objects.find(ObjectType::pci_dev, (uintptr_t)pcm->pdev)) return -ENODEV;
  auto p = std::make_shared<Pcm>();
  p->ops.take(d, pcm->ops, "snd_pcm_register");
  if (!pcm->streams || (pcm->streams & ~(SND_PCM_PLAYBACK_BIT | SND_PCM_CAPTURE_BIT))) return -EINVAL;
  p->domain = d->id;
  p->gen = d->failure_gen.load();
  p->key = (uintptr_t)pcm;
  p->name = pcm->pdev->dev.name;
  p->driver = d->name;
  p->streams = pcm->streams;
  p->max_buffer = pcm->max_buffer_bytes ? std::min(pcm->max_buffer_bytes, 1u << 24) : kDefaultMaxBuffer;
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (g_pcms.count(p->name) || pcm_of(d, p->key)) return -EBUSY;
    g_pcms[p->name] = p;
    auto parked = g_parked.find(p->name);
    if (parked != g_parked.end()) {  // back from recovery: the shadow hands over what it kept
      resume_locked(*parked->second, p);
      g_parked.erase(parked);
    }
  }
  d->objects.add({ObjectType::pcm, (uintptr_t)pcm, sizeof *pcm, 0, p->name});
  klog(6, "sound: %s registered by %s (%s%s%s)", p->name.c_str(), d->name.c_str(), p->streams & 1 ? "playback" : "",
       p->streams == 3 ? ", " : "", p->streams & 2 ? "capture" : "");
  return 0;
}

extern "C" void kapi_nooks_snd_pcm_unregister(void *arg) {
  Domain *d = calling_domain();
  d->objects.remove(ObjectType::pcm, (uintptr_t)arg);
  std::lock_guard<std::mutex> g(g_lock);
  if (auto p = pcm_of(d, (uintptr_t)arg)) drop_locked(*p, "unregistered by its driver");
}

extern "C" int kapi_nooks_snd_pcm_set_buffer(void *arg, int stream, void *area, unsigned long bytes) {
  Domain *d = calling_domain();
  std::lock_guard<std::mutex> g(g_lock);
  auto p = pcm_of(d, (uintptr_t)arg);
  if (!p || (stream != 0 && stream != 1) || !p->rt[stream]) return -EINVAL;
  if (bytes != p->rt[stream]->buffer_bytes || !dma_cpu_address(d, dma_bus_address(d, area), bytes)) {
    klog(3, "sound: %s: snd_pcm_set_buffer: %lu bytes at %p is not a DMA ring of %u bytes", p->name.c_str(), bytes, area,
         p->rt[stream]->buffer_bytes);
    return -EINVAL;
  }
  p->area[stream] = static_cast<uint8_t *>(area);
  return 0;
}

extern "C" void kapi_nooks_snd_pcm_period_elapsed(void *arg, int stream) {
  Domain *d = calling_domain();
  if (stream != 0 && stream != 1) kernel_bug(d, "snd_pcm_period_elapsed: stream %d is neither playback (0) nor capture (1)", stream);
  std::lock_guard<std::mutex> g(g_lock);
  auto p = pcm_of(d, (uintptr_t)arg);
  if (!p || !p->open[stream]) return;  // a late interrupt: nothing open
  Stream &s = *p->open[stream];
  std::lock_guard<std::mutex> sg(s.lock);
  s.elapsed = true;
  s.cv.notify_all();
}

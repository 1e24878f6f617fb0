// The sound class: a stream's class thread. It moves frames between the
// stream's queue and the driver's DMA ring as the hardware goes, tells
// JavaScript when there is room or data, restores the stream on a restarted
// driver (the shadow's replay), and is the stream's nanny. See pcm_core.h.
#include <algorithm>
#include <cstring>
#include <thread>

#include "../../domain/host_heap.h"
#include "../../kapi/log.h"
#include "../../recovery/recovery.h"
#include "pcm_core.h"

namespace nooks {
namespace sound_class {

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
    op.err = s.pcm->name + ": the driver refused the new position (" + errno_named((int)r) + ")";
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
    op.err = s.pcm->name + ": trigger " + what + " failed (" + errno_named((int)r) + "): see the kernel log";
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
    op = {"EIO", p.name + ": mixer failed (" + errno_named((int)r) + ")"};
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
    // The runtime lies in the host-object heap, read-only under mprotect while
    // a driver runs on another thread (its interrupt, a timer): opened first,
    // before g_lock (the mprotect lock, then the class's). Before, a restore
    // on the stream's thread wrote it closed and the process died.
    DomainMemoryAccess access;
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
  auto close = [&] {  // what the driver's close said: down if it failed
    Op closing;
    cross(p, p.ops.close(p.key, dir), &r, closing);
    return closing;
  };
  auto step = [&](const OpCall &call) {
    if (!cross(p, call, &r, op)) return false;  // unreachable or failed: nothing to undo
    if ((int)r >= 0) return opened = true;
    op = {"EIO", p.name + ": " + tap_name(call.tap) + " failed (" + errno_named((int)r) + "): see the kernel log"};
    if (opened) close();
    return false;
  };
  if (!step(p.ops.open(p.key, dir)) || !step(p.ops.hw_params(p.key, dir, (uintptr_t)rt)))
    return false;
  bool gone;
  {
    std::lock_guard<std::mutex> g(g_lock);
    *area = p.area[dir];
    gone = p.gone;
  }
  if (!*area) {  // hw_params gave none, or the ring went with the registration since (its release, its unregistration)
    Op closing = close();  // always: a driver that unregistered the pcm and runs still has the stream open
    if (closing.down) op = closing;  // the driver failed (a shadow may keep the stream): its answer is none
    else if (gone) op = {"ENODEV", p.name + ": device gone (unregistered by its driver)"};
    else op = {"EIO", p.name + ": the driver's hw_params gave no DMA ring (snd_pcm_set_buffer)"};
    return false;
  }
  if (stopped_at && !cross(p, p.ops.pointer(p.key, dir), stopped_at, op)) return false;
  return step(p.ops.prepare(p.key, dir));
}

// Test hook (pcmHoldRestore): a held pcm's restore waits, before driver_setup writes the stream's runtime into
// the host-object heap, until driver code runs on another thread (under mprotect: that heap read-only), 10 s at most.
void hold_restore_for_test(const Pcm &p) {
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (!g_hold_restore.erase(p.name)) return;
  }
  const char *name = p.name.c_str();
  klog_event(6, {"test-restore-held", {{"device", name}}}, "sound: %s: test hold: a restore waits for driver code on another thread", name);
  for (int ms = 0; ms < 10000 && !host_heap_read_only(); ms++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool driver_runs = host_heap_read_only();
  klog_event(6, {"test-restore-hold-passed", {{"device", name}, {"driverRuns", driver_runs}}}, "sound: %s: test hold: the restore goes on%s",
             name, driver_runs ? " while driver code runs" : " (no driver code ran)");
}

// The shadow's restore, on the stream's thread once the restarted driver runs: the stream opened again with
// its hw_params, going on from the frame the hardware got to (none played twice, none skipped), its mixer back,
// and running again if it ran. False with op set (the stream then ends, unless the driver failed again).
bool restore(Stream &s, Op &op) {
  {
    std::lock_guard<std::mutex> g(g_lock);
    std::lock_guard<std::mutex> sg(s.lock);
    // The stream's loop saw the registration's driver run, then let go of the locks: if that driver failed
    // again since, its teardown parked the stream again (park_locked: no resume), or a later restart registered
    // the pcm again and is still in its init. The loop restores it on that registration once its driver runs.
    if (!s.resume || !runs(*s.resume)) return true;
    s.pcm = std::move(s.resume);
    s.resume = nullptr;
  }
  hold_restore_for_test(*s.pcm);
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
    std::lock_guard<std::mutex> g(g_lock);
    std::lock_guard<std::mutex> sg(s.lock);
    if (s.dir == SNDRV_PCM_STREAM_PLAYBACK) {
      s.qhead = (s.qhead + moved) % s.q.size();
      s.qlen -= moved;
    } else {
      taken = s.frames_done - (s.hw - s.appl) / s.fb;
      lost = (s.hw + moved - s.appl) / s.fb;
    }
    s.frames_done += moved / s.fb;
    s.hw = s.appl = s.last_ptr = 0;  // positions count from the new prepare
    // not a ring the restarted driver's teardown took since driver_setup read it (park_locked cleared s.area then)
    s.area = s.pcm->gone ? nullptr : area;
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
  if (s.start_engine && !start_stream(s, false, op)) return false;
  s.start_engine = false;
  {
    std::lock_guard<std::mutex> g(g_lock);
    std::lock_guard<std::mutex> sg(s.lock);
    // not if the restarted driver failed after the restore's last crossing: its teardown parked the stream again
    if (!s.pcm->gone) s.parked = false;
    s.kick = true;
  }
  const char *name = s.pcm->name.c_str();
  const char *dir = s.dir == SNDRV_PCM_STREAM_PLAYBACK ? "playback" : "capture";
  klog_event(6, {"shadow-restored", {{"device", name}, {"stream", dir}, {"frame", s.frames_done}, {"running", s.started}}},
             "sound: %s: %s stream restored on the restarted driver at frame %llu%s", name, dir, (unsigned long long)s.frames_done,
             s.started ? ", running" : "");
  if (lost)
    klog_event(4, {"capture-lost", {{"device", name}, {"frames", lost}, {"after", taken}}},
               "sound: %s: %llu captured frames after frame %llu were lost with the failed driver's ring", name,
               (unsigned long long)lost, (unsigned long long)taken);
  return true;
}

// One pass of a playback stream. False when the stream died (op says why).
// The nanny: a stream that should move and has not for the driver's stallMs
// means a driver that stopped working without faulting (a pointer that no
// longer moves, periods not acknowledged): it is failed ('stalled') and
// recovered; its shadow, if any, resumes the stream.
void nanny(Stream &s, const char *what) {
  DomainUse use = domain_of(*s.pcm);
  Domain *d = use.get();
  // Compared in ms, as stallMs is: any positive integer, which in the clock's nanoseconds could overflow
  // (a stallMs of centuries would fail the driver at once).
  const uint64_t still_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - s.last_progress).count();
  if (!d || still_ms <= d->stall_ms.load()) return;
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

// The loop's rule, for a stream whose crossing failed (op): whether the shadow, not the stream's thread, answers
// for it (restores it, or ends it saying why). It does if the crossing found the driver down and
// - that driver failed under a shadow: its teardown parks the stream, if it has not yet;
// - or the stream is parked: the shadow's ledger keeps it, or a registration took it over (its restore pending),
//   whatever became of the failed driver since. Its unload may come before the registration: a fallback may
//   register the pcm after its init returned, from a thread of its own (before, the stream ended "device gone"
//   if its thread looked in between: test/sound-shadow.test.ts, pcmHoldDownCrossing).
// The driver first, then the stream: a teardown parks the stream before the agent unloads its driver, so a stream
// not parked once its driver is gone never will be. (A user's unload racing a fresh failure clears `shadowed`
// before that failure's teardown has parked: a stream asking in between ends itself, as it would at the unload's
// release, with the failure's error for the message.) Not the opens' stricter kept_for_restore: a parked stream's own
// registration may be gone and out of the parked set, its restore onto the next one pending (with that rule such
// a stream ended "device gone" at a second failure: the demo's player, in CI).
bool left_to_shadow(Stream &s, const Op &op) {
  if (!op.down) return false;
  if (down_under_shadow(*s.pcm, op)) return true;
  std::lock_guard<std::mutex> g(s.lock);
  return s.parked;
}

// Test hook (pcmHoldDownCrossing): a held pcm's stream, whose crossing found its driver down, waits before the
// loop's rule until that driver is unloaded (10 s at most): across its failure's teardown, a fallback's load and
// the failed driver's unload. Whether it held (the caller then logs the rule's answer).
bool hold_down_crossing_for_test(const Pcm &p, const Op &op) {
  if (!op.down || !g_hold_down_armed.load(std::memory_order_relaxed)) return false;
  {
    std::lock_guard<std::mutex> g(g_lock);
    if (!g_hold_down.erase(p.name)) return false;
    g_hold_down_armed.store(!g_hold_down.empty(), std::memory_order_relaxed);
  }
  const char *name = p.name.c_str();
  klog_event(6, {"test-down-held", {{"device", name}}}, "sound: %s: test hold: a stream's crossing found its driver down", name);
  for (int ms = 0; ms < 10000 && DomainUse(p.domain, p.serial).get(); ms++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

void stream_loop(Stream *s) {
  for (;;) {
    bool parked, restoring, mixer;
    {
      std::unique_lock<std::mutex> g(s->lock);
      // parked: woken when the restarted driver registers the pcm, then polled until it runs (its init returned);
      // until then nothing but that, the shadow ending it (an error) or a close wakes it: no timeout to look
      bool polling = s->parked && s->resume;
      auto woken = [&] {
        if (s->stop || !s->error.empty()) return true;
        if (!s->parked) return s->kick || s->elapsed || s->mixer_pending;
        return s->resume && (!polling || runs(*s->resume));
      };
      if (s->parked && !s->resume) s->cv.wait(g, woken);
      else s->cv.wait_for(g, std::chrono::milliseconds(polling ? 1 : 20), woken);
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
    } else if (!parked) {  // parked: the restarted driver has not registered the pcm yet (the shadow ends it if it never does)
      ok = s->dir == SNDRV_PCM_STREAM_PLAYBACK ? service_playback(*s, op) : service_capture(*s, op);
      if (ok && mixer) ok = apply_mixer(*s, op);
    }
    if (!ok) {
      bool held = hold_down_crossing_for_test(*s->pcm, op);
      bool kept = left_to_shadow(*s, op);
      if (!kept) fail_stream(*s, op.code, op.err);
      if (held)
        klog_event(6, {"test-down-hold-passed", {{"device", s->pcm->name}, {"ended", !kept}}}, "sound: %s: test hold: the stream %s",
                   s->pcm->name.c_str(), kept ? "is the shadow's" : "ends");
    }
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

}  // namespace sound_class
}  // namespace nooks

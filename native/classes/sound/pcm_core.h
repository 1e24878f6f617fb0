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
// size), reads and drain() wait, mixer changes are recorded; a stream opened
// then starts parked (the restore is its open on the driver). When the
// restarted driver registers the pcm again, the stream's thread restores it
// once the driver runs: open, the same hw_params, pointer() (where the reset
// cut the old engine: the device keeps that position), prepare, the mixer,
// and trigger RESUME if it was running, from exactly the frame the hardware
// got to. If the driver does not come back (the policy gives up, or it is
// unloaded), or its successor (restarted, or a fallback) runs for the
// shadow's limit without registering the pcm, the shadow ends the parked
// stream, saying why; the stream's thread does not, when a crossing of its
// finds the driver down (pcm_stream.cc, left_to_shadow).
//
// The class's files: pcm_core.h (what they share), pcm_core.cc (the
// registry of pcms, parking and resuming them for the shadow, crossing into
// a driver's op), pcm_stream.cc (a stream's class thread: the data path, the
// shadow's restore, the nanny), pcm_napi.cc (what lib/classes/sound.ts
// calls), pcm_kapi.cc (the kernel calls sound drivers make).
#pragma once
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../domain/domain.h"
#include "../../shadow/taps.h"
#include <nooks/sound.h>

namespace nooks {
namespace sound_class {

struct Stream;

// A registration: what the kernel copied out of the driver's struct snd_pcm.
struct Pcm {
  int domain;
  uint64_t serial;  // the load of the driver that registered it (domain ids are reused)
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
  uint64_t ticket = 0;  // while parked: its entry in the shadow's ledger (guarded by g_lock)
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
  bool start_engine = false;    // a capture stream opened while parked: its restore starts it, as an open does (set before its thread)
  std::chrono::steady_clock::time_point last_progress;
  // the shadow: parked while its driver restarts; `resume` is the pcm the restarted driver registered
  bool parked = false, mixer_pending = false;  // mixer_pending: changed while parked, not yet given to the driver
  std::shared_ptr<Pcm> resume;
  // The pcm whose open[dir] holds the stream (guarded by g_lock): its pcm, or the one the shadow moved it onto
  // (resume_locked) before its restore took it, kept when that one is parked too (then resume is gone).
  std::shared_ptr<Pcm> holder;

  Napi::ThreadSafeFunction tsfn;
  bool tsfn_live = false;
  std::thread thread;
};
// Never destroyed: stream threads may still run while the process exits.
extern std::mutex &g_lock;
extern std::map<std::string, std::shared_ptr<Pcm>> &g_pcms;
extern std::map<int, std::shared_ptr<Stream>> &g_streams;  // by handle (JS thread only)
// by name: shadowed pcms whose driver is restarting, with their open streams and mixer (guarded by g_lock)
extern std::map<std::string, std::shared_ptr<Pcm>> &g_parked;
// Test hook (pcmHoldRestore): pcms whose next restore waits for driver code on another thread (guarded by g_lock).
extern std::set<std::string> &g_hold_restore;
// Test hook (pcmHoldRegister): pcms whose next registration that hands parked streams over waits for their restore
// (guarded by g_lock).
extern std::set<std::string> &g_hold_register;
// Test hook (pcmHoldDownCrossing): pcms whose stream's next crossing that finds the driver down is held (guarded by
// g_lock); whether there are any, read relaxed first, so that the hook costs a stream's failure path one load.
extern std::set<std::string> &g_hold_down;
extern std::atomic<bool> g_hold_down_armed;

// With g_lock held: d's registration at `key`, if any.
std::shared_ptr<Pcm> pcm_of(Domain *d, uintptr_t key);
// Ends a stream with an error (once) and wakes its thread.
void fail_stream(Stream &s, const std::string &code, const std::string &msg);
// With g_lock held: the pcm is no more; its streams end.
void drop_locked(Pcm &p, const char *why);
// With g_lock held: the restarted driver registered the parked pcm `old` again as p.
void resume_locked(Pcm &old, const std::shared_ptr<Pcm> &p);
// p's driver while the use lives (its get() is nullptr once that load is unloaded).
DomainUse domain_of(const Pcm &p);
// Whether p's registration is live and its driver runs (a restarted driver runs once its init has returned).
bool runs(const Pcm &p);

// What a crossing that did not happen says, and whether the driver's failure is the shadow's to hide.
struct Op {
  std::string code, err;
  bool down = false;  // the driver could not be reached, or failed: no answer of its own
};

// One crossing into the driver's op. False (and op says why) if the driver
// cannot be reached or faulted: a fault goes to the recovery thread.
bool cross(const Pcm &p, const OpCall &call, uint64_t *ret, Op &op);
// Whether a crossing on p found its driver down (op) and that driver failed under a shadow: a stream already
// open waits for its restore (parked with p, or restored onto p's next registration by its own loop).
bool down_under_shadow(const Pcm &p, const Op &op);
// The opens' and the mixer's rule: whether a stream being opened on p, or whose mixer is set, when its crossing
// found the driver down (op) is the shadow's to keep: the driver failed under a shadow and p is parked, or still
// registered (its teardown parks p with its claimed streams). Stricter than the loop's down_under_shadow: only
// then does something carry the new stream or the volume to the restore; else the open or mixer change fails.
bool kept_for_restore(const Pcm &p, const Op &op);
// A driver answer the kernel cannot use: the driver is failed, as a bad call would.
void driver_bug(const Pcm &p, const std::string &what);
// Tells JavaScript (the stream's thread-safe function; never blocks); takes e.
void emit(Stream &s, Event *e);

// pcm_stream.cc
bool trigger(Stream &s, int cmd, Op &op);
bool start_stream(Stream &s, bool resume, Op &op);
bool set_mixer(const Pcm &p, int dir, uint32_t volume, bool mute, Op &op);
bool apply_mixer(Stream &s, Op &op);
bool driver_setup(Stream &s, Op &op, uint64_t *stopped_at, uint8_t **area);
// The class thread of a stream.
void stream_loop(Stream *s);

}  // namespace sound_class
}  // namespace nooks

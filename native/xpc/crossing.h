// The crossing (xpc_call) around a backend's own entry: the checks and the
// bookkeeping every mode shares. Each backend instantiates it once with its
// admit and enter steps (native/isolation/<mode>/), so that the entry is
// inlined here and a crossing costs one call through g_backend.call.
#pragma once
#include "entry_barrier.h"
#include "xpc.h"

namespace nooks {

// d may be entered: not failed, disabled or unloaded.
inline bool enterable(DomainState s) { return s != DomainState::failed && s != DomainState::disabled && s != DomainState::unloaded; }

// The calling thread (*t) and its stack in d, or nullptr when d cannot be entered now.
inline DomainThread *crossing_thread(Domain *d, ThreadCtx **t) {
  if (!enterable(d->state.load(std::memory_order_acquire))) return nullptr;
  *t = thread_ctx();
  DomainThread *dt = (*t)->dts[d->id];
  return dt ? dt : domain_thread(d);
}

// f becomes the thread's top frame, inside dt's domain.
inline void crossing_push(ThreadCtx *t, DomainThread *dt, EntryFrame &f) {
  f.dt = dt;
  f.prev = t->top;
  f.prev_cur = t->cur;
  f.saved_sp = dt->sp;
  f.saved_depth = dt->depth;
  f.prev_host_pkru = (uint32_t)t->host_pkru;
  if (t->depth++ == 0) {
    t->outer_domain.store(dt->domain->id, std::memory_order_relaxed);
    note_progress(t);
  }
  dt->depth++;
  dt->entries++;
  t->top = &f;
  t->cur = dt;
}

// The crossing was abandoned (rc 1) or the thread was asked to leave d
// (asked): what happened, in *fault (xpc.cc).
EnterResult crossing_failed(ThreadCtx *t, Domain *d, const EntryFrame &f, int rc, bool asked, Fault *fault);

// The crossing, counted inside d (crossing_push), looks at d's state again: a
// teardown that marked it before this thread was counted did not see the
// thread inside and may be releasing what the driver would use
// (entry_barrier.h: one of the two sees the other).
inline bool crossing_confirmed(Domain *d) {
  entry_barrier_crossing();
  return enterable(d->state.load(std::memory_order_relaxed));
}

// f is the thread's top frame no more: what crossing_push changed, restored.
inline void crossing_unpush(ThreadCtx *t, DomainThread *dt, const EntryFrame &f) {
  t->cur = f.prev_cur;
  t->top = f.prev;
  t->host_pkru = f.prev_host_pkru;
  dt->sp = f.saved_sp;
  dt->depth = f.saved_depth;
  if (--t->depth == 0) t->outer_domain.store(-1, std::memory_order_relaxed);
}

// The crossing was counted but d can no longer be entered: as if it never had been.
inline void crossing_withdraw(ThreadCtx *t, DomainThread *dt, const EntryFrame &f) {
  crossing_unpush(t, dt, f);
  dt->entries--;
}

// f's entry returned (rc 0) or was abandoned (rc 1): what happened, then
// unpushed. A failed entry has its say to d first: once the thread is counted
// out, a teardown may go on to an unload that frees d and dt.
inline EnterResult crossing_pop(ThreadCtx *t, DomainThread *dt, const EntryFrame &f, int rc, Fault *fault) {
  Domain *d = dt->domain;
  bool asked = t->abort_domain.load() == d->id;
  EnterResult r = rc == 0 && !asked ? EnterResult::ok : crossing_failed(t, d, f, rc, asked, fault);
  crossing_unpush(t, dt, f);
  return r;
}

// A backend's steps. Admit runs before the crossing is counted and may wait
// (mprotect: for the lock, which is why it comes first: a thread counted
// inside while it waits would hold up a teardown): true when it took
// something, `held`, that Enter, or Refuse if d can no longer be entered,
// must let go. nullptr: nothing to take. Enter runs c inside dt's domain, f
// the thread's top frame: 0 when it returned, 1 when it was abandoned at the
// backend's landing (a fault, an abort).
using AdmitStep = bool (*)(ThreadCtx *t);
using RefuseStep = void (*)(ThreadCtx *t, bool held);
using EnterStep = int (*)(ThreadCtx *t, DomainThread *dt, EntryFrame *f, XpcCall *c, bool held);

template <AdmitStep Admit, RefuseStep Refuse, EnterStep Enter>
EnterResult xpc_cross(Domain *d, XpcCall *c, Fault *fault) {
  ThreadCtx *t;
  DomainThread *dt = crossing_thread(d, &t);
  if (!dt) return EnterResult::unavailable;
  bool held = false;
  if constexpr (Admit != nullptr) held = Admit(t);
  EntryFrame f;
  crossing_push(t, dt, f);
  if (!crossing_confirmed(d)) {
    crossing_withdraw(t, dt, f);
    if constexpr (Refuse != nullptr) Refuse(t, held);
    return EnterResult::unavailable;
  }
  int rc = Enter(t, dt, &f, c, held);
  return crossing_pop(t, dt, f, rc, fault);
}

}  // namespace nooks

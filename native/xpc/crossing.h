// The crossing (xpc_call) around a backend's own entry: the checks and the
// bookkeeping every mode shares. Each backend instantiates it once with its
// admit and enter steps (native/isolation/<mode>/), so that the entry is
// inlined here and a crossing costs one call through g_backend.call.
#pragma once
#include "xpc.h"

namespace nooks {

// The calling thread (*t) and its stack in d, or nullptr when d cannot be entered now.
inline DomainThread *crossing_thread(Domain *d, ThreadCtx **t) {
  DomainState s = d->state.load(std::memory_order_acquire);
  if (s == DomainState::failed || s == DomainState::disabled || s == DomainState::unloaded) return nullptr;
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

// f is the thread's top frame no more.
inline EnterResult crossing_pop(ThreadCtx *t, DomainThread *dt, const EntryFrame &f, int rc, Fault *fault) {
  t->cur = f.prev_cur;
  t->top = f.prev;
  t->host_pkru = f.prev_host_pkru;
  dt->sp = f.saved_sp;
  dt->depth = f.saved_depth;
  if (--t->depth == 0) t->outer_domain.store(-1, std::memory_order_relaxed);
  bool asked = t->abort_domain.load() == dt->domain->id;
  if (rc == 0 && !asked) return EnterResult::ok;
  return crossing_failed(t, dt->domain, f, rc, asked, fault);
}

// A backend's steps. Admit runs before the crossing is recorded and may wait
// (mprotect: for the lock): false when d failed meanwhile; *held is passed
// to Enter, which must let it go. nullptr: every crossing is admitted. Enter
// runs c inside dt's domain, f the thread's top frame: 0 when it returned, 1
// when it was abandoned at the backend's landing (a fault, an abort).
using AdmitStep = bool (*)(ThreadCtx *t, Domain *d, bool *held);
using EnterStep = int (*)(ThreadCtx *t, DomainThread *dt, EntryFrame *f, XpcCall *c, bool held);

template <AdmitStep Admit, EnterStep Enter>
EnterResult xpc_cross(Domain *d, XpcCall *c, Fault *fault) {
  ThreadCtx *t;
  DomainThread *dt = crossing_thread(d, &t);
  if (!dt) return EnterResult::unavailable;
  bool held = false;
  if constexpr (Admit != nullptr)
    if (!Admit(t, d, &held)) return EnterResult::unavailable;
  EntryFrame f;
  crossing_push(t, dt, f);
  int rc = Enter(t, dt, &f, c, held);
  return crossing_pop(t, dt, f, rc, fault);
}

}  // namespace nooks

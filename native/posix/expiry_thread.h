// One kernel thread wakes the waits on every timerfd of every driver at its
// expiries (the first of each batch, timerfd.h): no thread per timer, and no
// JavaScript. It only wakes (a timerfd's count comes from its clock when read
// or polled, so a late wake loses no expiry), and it never crosses into a
// driver: the timer thread of native/kapi/time.cc runs drivers' callbacks,
// and one driver's slow callback would hold every other driver's timerfds
// there.
#pragma once

namespace nooks {

// What the thread visits: a timerfd.
class Expiring {
 public:
  // On the expiry thread, under its lock: wakes the waits on it if an
  // expiry is due; returns when to visit next (CLOCK_MONOTONIC ns), or -1:
  // not until expiry_visit_by.
  virtual long long visit() = 0;

 protected:
  ~Expiring() = default;
};

// The thread visits x no later than `at` (CLOCK_MONOTONIC ns; 0: at once),
// as x was armed, disarmed or read. Never later than asked before: a visit
// too early only learns when next.
void expiry_visit_by(Expiring *x, long long at);
// x goes: it is not visited again (once this returns, no visit of it runs).
void expiry_forget(Expiring *x);
// Started with the kernel, stopped with it (native/addon.cc).
void expiry_thread_start();
void expiry_thread_stop();

}  // namespace nooks

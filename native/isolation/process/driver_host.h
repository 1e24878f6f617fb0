// Isolation 'process': each driver runs in a host process of its own, the way
// drivers are contained today (a driver host process), and the baseline the
// other modes are measured against.
//
// The host process is forked from the kernel once the driver is loaded (and
// again at each restart), so the driver's text and every address are the same
// in both. What the two share is MAP_SHARED memory: the domain (heap, DMA,
// stacks, writable segments) and, read-only in the host process, the
// host-object heap. Everything else the host process has is its own private
// copy of the kernel's memory at the fork: a driver can read stale kernel
// data there and write it, but never the kernel's own.
//
// A crossing is a round trip over the thread's channel (channel.h); the
// driver's kernel calls come back over the same channel and run in the kernel
// on the thread that entered, as upcalls do in the other modes. A fault in the
// host process is reported over the channel by its signal handler; a host
// process that dies or hangs is noticed by the kernel side. Recovery kills it
// and forks a new one after resetting the domain.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace nooks {

struct Domain;
struct DomainThread;
struct XpcCall;

// The channels of d (at domain creation, before anything is forked).
bool driver_host_create(Domain *d);
void driver_host_destroy(Domain *d);
// Forks d's host process: after the driver is loaded or reset, before its
// init runs; returns once the twins of d's threads are up in it. false, with
// why, if it cannot.
bool driver_host_start(Domain *d, std::string *why);
// Kills and reaps it: no driver code runs afterwards.
void driver_host_stop(Domain *d);
// A thread has a stack in d now: asks the host process for the twin that
// serves its channel. The thread's first crossing waits for the twin.
void driver_host_thread_added(Domain *d, DomainThread *dt);
// The crossing (run by nooks_xpc_enter_local, so that a fault can unwind to
// it): calls c in the host process and serves its kernel calls until it returns.
uint64_t driver_host_cross(Domain *d, XpcCall *c, DomainThread *dt);

// The waits of the kernel's threads (every domain) whose spin ran out, so
// that they slept until the host process answered: how often a spin was
// spent in vain. A wait that sleeps at once (the host process's side last ran
// on the waiter's CPU: channel_wait) is not counted.
uint64_t driver_host_spins_run_out();

// The host process's side (helper.cc): never returns.
[[noreturn]] void driver_host_main(Domain *d, pid_t kernel);

}  // namespace nooks

#include "pkey.h"

#include <cpuid.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "../../kapi/log.h"
#include "../../xpc/crossing.h"
#include "pkru.h"

extern "C" {
int nooks_xpc_enter_pkey(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack, uint32_t pkru);
void nooks_xpc_landing_pkey();
void nooks_upcall_pkey();
}

namespace nooks {

bool cpu_has_pku() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  bool pku = c & (1u << 3), ospke = c & (1u << 4);
  return pku && ospke;
}

std::string pkey_unusable_reason() {
  if (!cpu_has_pku()) return "this CPU (or its hypervisor) offers no protection keys (PKU/OSPKE)";
  utsname u{};
  int major = 0, minor = 0;
  if (uname(&u) == 0) sscanf(u.release, "%d.%d", &major, &minor);
  if (major < 6 || (major == 6 && minor < 12))
    return std::string("Linux ") + u.release + " writes signal frames under the faulting thread's PKRU, so a fault "
           "inside a pkey domain would kill the process; pkey isolation needs Linux 6.12 or later";
  return "";
}

namespace {

// PKRU bits (both) of every key nooks owns now, and of every key it ever
// took: a thread keeps the PKRU it entered a domain with until it leaves
// (its kernel calls return to it), so one that entered while a freed key was
// open in it would still have it open once another domain takes the key
// again. Written under g_domains_lock, read by crossings on any thread.
std::atomic<uint32_t> g_pkey_mask{0};
std::atomic<uint32_t> g_ever_mask{0};

// Each domain's key, by domain id (set at domain_setup, under g_domains_lock).
struct DomainKey {
  int key = -1;
};
DomainKey g_keys[kMaxDomains];

int key_of(const Domain *d) { return g_keys[d->id].key; }

void recompute_pkey_mask() {
  uint32_t mask = 0;
  for (Domain *d : g_domains)
    if (d && key_of(d) >= 0) mask |= pkru_both(key_of(d));
  g_pkey_mask = mask;
}

// Inside domain d: key 0 read-only, every key nooks ever took closed but d's
// own, the host's other keys (V8's) as they were.
uint32_t domain_pkru(uint32_t orig, const Domain *d) {
  uint32_t ever = g_ever_mask, own = key_of(d) >= 0 ? pkru_both(key_of(d)) : 0;
  return (orig & ~(ever | pkru_both(0))) | pkru_wd(0) | (ever & ~own);
}

// A key for a new domain. Node's V8 holds key 1, so 14 are left; past that,
// domains share the key of the domain with the fewest sharers: they are still
// isolated from the kernel, not from each other (and the log says so).
void take_key(Domain *self) {
  int k = pkey_alloc(0, 0);
  if (k >= 0) {
    g_keys[self->id] = {k};
    g_ever_mask |= pkru_both(k);
    return;
  }
  if (errno != ENOSPC) throw std::runtime_error(std::string("pkey_alloc failed: ") + strerror(errno));
  int counts[16] = {0};
  for (Domain *d : g_domains)
    if (d && key_of(d) >= 0) counts[key_of(d)]++;
  int best = -1;
  for (int i = 0; i < 16; i++)
    if (counts[i] && (best < 0 || counts[i] < counts[best])) best = i;
  if (best < 0) throw std::runtime_error("no protection key available (every key is held outside nooks)");
  klog(4, "nooks: out of protection keys: domain %s shares key %d with %d other domain(s); "
          "they are isolated from the kernel but not from each other", self->name.c_str(), best, counts[best]);
  g_keys[self->id] = {best};
}

bool key_shared(const Domain *self) {
  for (Domain *d : g_domains)
    if (d && d != self && key_of(d) == key_of(self)) return true;
  return false;
}

// Also for a domain whose set-up failed (take_key threw: no key).
void free_key(Domain *d) {
  if (key_of(d) >= 0 && !key_shared(d)) pkey_free(key_of(d));
  g_keys[d->id] = {};
}

bool tag(const Domain *d, void *p, size_t n) { return pkey_mprotect(p, n, PROT_READ | PROT_WRITE, key_of(d)) == 0; }

// Kernel code may touch every domain: a thread's PKRU opens only the keys
// that existed when it last opened them.
bool open_every_key() {
  wrpkru(rdpkru() & ~g_pkey_mask);
  return false;
}

void thread_registered(ThreadCtx *) { open_every_key(); }

int enter(ThreadCtx *t, DomainThread *dt, EntryFrame *f, XpcCall *c, bool) {
  uint32_t orig = rdpkru();
  f->orig_pkru = orig;
  t->host_pkru = orig & ~g_pkey_mask;
  dt->pkru = domain_pkru(orig, dt->domain);
  return nooks_xpc_enter_pkey(f, c, dt->sp & ~(uintptr_t)15, dt->pkru);
}

}  // namespace

const IsolationBackend kPkeyBackend = {
    .mode = Isolation::pkey,
    .call = xpc_cross<nullptr, nullptr, enter>,
    .upcall = (const void *)nooks_upcall_pkey,
    .landing = (const void *)nooks_xpc_landing_pkey,
    .unusable_reason = pkey_unusable_reason,
    .unusable_code = "ENOPKU",
    .thread_registered = thread_registered,
    .open_memory = open_every_key,
    .domain_setup = take_key,
    .domain_teardown = free_key,
    .domains_changed = recompute_pkey_mask,
    .tag_memory = tag,
    .protection_key = key_of,
};

}  // namespace nooks

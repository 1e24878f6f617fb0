// The checking wrappers and dispatch tables, generated from lib/wrappers/kapi.ts.
#include "checks.h"
#include "../shadow/taps.h"

#include <nooks/kapi.h>

using namespace nooks;

#include "kapi_wrappers.inc"

extern "C" {
// Read by the upcall routines of each isolation mode (CALL_KAPI, native/xpc/macros_x86_64.inc).
__attribute__((visibility("hidden"))) extern const void *const nooks_kapi_checked[] = {KAPI_CHECKED};
__attribute__((visibility("hidden"))) extern const void *const nooks_kapi_raw[] = {KAPI_RAW};
__attribute__((visibility("hidden"))) extern const uint64_t nooks_kapi_count = sizeof nooks_kapi_checked / sizeof *nooks_kapi_checked;

// An upcall whose index is past the tables: the driver set r11 itself or
// jumped into a stub past its movl (a wild jump). A bad call, as a wild
// pointer is; outside any domain's crossing, the host's own bug.
__attribute__((visibility("hidden"))) [[noreturn]] void nooks_kapi_no_such_call(uint64_t index) {
  Domain *d = calling_domain();
  if (!d) abort();
  xpc_fail_current(d, FaultKind::bad_call, "a kernel call with index %llu, which does not exist (a jump into a kernel-call stub, or r11 set by the driver)",
                   (unsigned long long)index);
}
}

// The checking wrappers and dispatch tables, generated from lib/wrappers/kapi.ts.
#include "checks.h"
#include "../shadow/taps.h"

#include <nooks/kapi.h>

using namespace nooks;

#include "kapi_wrappers.inc"

extern "C" {
// Read by the upcall routines in native/xpc/xpc_x86_64.S.
__attribute__((visibility("hidden"))) extern const void *const nooks_kapi_checked[] = {KAPI_CHECKED};
__attribute__((visibility("hidden"))) extern const void *const nooks_kapi_raw[] = {KAPI_RAW};
}

/* The C++ runtime of a driver (lib/sdk/flags.ts: cxx_rt.a, linked into every
 * driver with C++ sources, kernel-API and POSIX alike): what g++ emits calls
 * to, or libstdc++'s header-only parts call out of line, that would otherwise
 * come from libstdc++.so and libsupc++ (which a driver may not link). Built
 * -fno-exceptions: every error is a contained failure of the driver. */
#ifndef NOOKS_CXX_RT_H
#define NOOKS_CXX_RT_H

#include <nooks/kapi.h>

extern "C" {
#include <nooks/posix_calls.h>
}

/* The driver fails (fault kind `abort`, carrying the formatted message), as abort() in the POSIX personality. */
[[noreturn]] void cxx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

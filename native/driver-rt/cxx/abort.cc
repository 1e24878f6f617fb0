/* abort() for a kernel-API driver, which has no C library: libstdc++'s
 * headers call it where, without exceptions, they would throw in line
 * (std::optional::value() of an empty one, std::get of a std::variant's
 * other alternative). A POSIX driver gets the personality's, linked first. */
#include "cxx.h"

extern "C" [[noreturn]] void abort(void)
{
	cxx_fail("abort()");
}

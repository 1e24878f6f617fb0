/* The helpers libstdc++'s header-only parts call out of line to throw
 * (bits/functexcept.h: std::vector's length_error, std::array::at's
 * out_of_range, ...). Without exceptions each is the driver's failure, with
 * the library's message. Declared here, not from the header, whose
 * namespace std is of default visibility: a driver's definitions of them
 * stay hidden, never bound to the host's libstdc++. */
#include "cxx.h"

namespace std {

#define FAIL_WITH_MESSAGE(name) \
	[[noreturn]] void name(const char *what) { cxx_fail("std::" #name ": %s", what); }
#define FAIL(name) \
	[[noreturn]] void name() { cxx_fail("std::" #name); }

FAIL(__throw_bad_exception)
FAIL(__throw_bad_alloc)
FAIL(__throw_bad_array_new_length)
FAIL(__throw_bad_cast)
FAIL(__throw_bad_typeid)
FAIL(__throw_bad_function_call)
FAIL_WITH_MESSAGE(__throw_logic_error)
FAIL_WITH_MESSAGE(__throw_domain_error)
FAIL_WITH_MESSAGE(__throw_invalid_argument)
FAIL_WITH_MESSAGE(__throw_length_error)
FAIL_WITH_MESSAGE(__throw_out_of_range)
FAIL_WITH_MESSAGE(__throw_runtime_error)
FAIL_WITH_MESSAGE(__throw_range_error)
FAIL_WITH_MESSAGE(__throw_overflow_error)
FAIL_WITH_MESSAGE(__throw_underflow_error)

/* The message is a format with %s, %zu and %lu (std::array::at's "array::at: __n (which is %zu) >= _Nm (which is %zu)"). */
[[noreturn]] void __throw_out_of_range_fmt(const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cxx_fail("std::__throw_out_of_range_fmt: %s", what);
}

[[noreturn]] void __throw_system_error(int error) { cxx_fail("std::__throw_system_error: error %d", error); }
[[noreturn]] void __throw_future_error(int error) { cxx_fail("std::__throw_future_error: error %d", error); }

}  // namespace std

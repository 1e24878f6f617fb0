#!/bin/sh
# Unit tests of native/trap, run on the host under ASan and UBSan: the MMIO trap's
# instruction decoder (x86_decode.cc) against the code gcc emits for volatile
# accesses (test/accesses.c, compiled at -O0 and -O2, as PIE and not), and the
# handler side and stub (mmio.cc, mmio_x86_64.S); the watchdog's memory of
# stuck threads (stalls.cc) and its clock (run_clock.h); kernel code's guarded accesses to driver memory
# (guarded.cc). `run-tests.sh mmio`, `run-tests.sh stalls` or `run-tests.sh
# guarded` runs one part (test/mmio-decode.test.ts,
# test/watchdog-stalls.test.ts, test/guarded-access.test.ts).
set -eu
part=${1:-all}
# A part misnamed would run nothing and pass.
case $part in all | mmio | stalls | guarded) ;; *) echo "usage: run-tests.sh [all | mmio | stalls | guarded]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
# A directory of its own: two checkouts (or two runs) never link each other's objects.
out=$(mktemp -d "${TMPDIR:-/tmp}/nooks-trap-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
cd "$root/native/trap"

warn="-Wall -Wextra -Werror"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [ "$part" = all ] || [ "$part" = mmio ]; then
	# The accesses as a driver's code would have them: no sanitizer between them and the page.
	gcc $warn -std=gnu11 -O0 -fPIE -DSUFFIX=_O0 -c test/accesses.c -o "$out/accesses_O0.o"
	gcc $warn -std=gnu11 -O2 -fPIE -DSUFFIX=_O2 -c test/accesses.c -o "$out/accesses_O2.o"
	gcc $warn -std=gnu11 -O2 -fno-pie -DSUFFIX=_nopie -c test/accesses.c -o "$out/accesses_nopie.o"
	g++ $warn $san -std=c++17 -O1 -g -no-pie -o "$out/test_decode" test/test_decode.cc x86_decode.cc \
		"$out/accesses_O0.o" "$out/accesses_O2.o" "$out/accesses_nopie.o"
	# The test's own SIGSEGV handler emulates the trapped accesses.
	ASAN_OPTIONS=allow_user_segv_handler=1:handle_segv=0:detect_leaks=1 "$out/test_decode"

	# The handler side and the stub (mmio.cc, mmio_x86_64.S), the kernel call
	# replaced by one that wrecks what a callee may: every register must survive,
	# and no system call but the signal return be made (under seccomp).
	g++ $warn $san -std=c++17 -O1 -g -DNOOKS_HOST -I "$root/native/include" -I "$root/gen" -o "$out/test_stub" \
		test/test_stub.cc test/stub_body.S mmio.cc mmio_x86_64.S x86_decode.cc
	ASAN_OPTIONS=allow_user_segv_handler=1:handle_segv=0:detect_leaks=1 "$out/test_stub"
fi

# The watchdog's memory of stuck threads (stalls.cc) and its clock (run_clock.h).
if [ "$part" = all ] || [ "$part" = stalls ]; then
	g++ $warn $san -std=c++17 -O1 -g -o "$out/test_stalls" test/test_stalls.cc stalls.cc
	"$out/test_stalls"
fi

# Kernel code's guarded accesses (guarded.cc), with a handler set up as trap.cc's.
if [ "$part" = all ] || [ "$part" = guarded ]; then
	g++ $warn $san -std=c++17 -O1 -g -o "$out/test_guarded" test/test_guarded.cc guarded.cc
	ASAN_OPTIONS=allow_user_segv_handler=1:handle_segv=0:handle_sigbus=0:detect_leaks=1 "$out/test_guarded"
fi

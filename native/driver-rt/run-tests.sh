#!/bin/sh
# Unit tests for the driver runtime and the POSIX personality's pure parts,
# its threads' state, waits and directories, run on the host under ASan and UBSan.
# The runtime sources are built with the same code-shaping flags as for
# drivers (freestanding, no builtins, no loop-to-memset rewriting).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
# A directory of its own: two checkouts (or two runs) never link each other's objects.
out=$(mktemp -d "${TMPDIR:-/tmp}/nooks-driver-rt-test.XXXXXX")
trap 'rm -rf "$out"' EXIT

if [ ! -f "$root/gen/nooks/kapi_calls.h" ]; then
	echo "run-tests.sh: gen/nooks/kapi_calls.h missing;" \
	     "run: npx tsc -p . && node dist/lib/wrappers/generate.js" >&2
	exit 1
fi

common="-std=gnu11 -O2 -g -fno-builtin -fno-omit-frame-pointer -Wall -Wextra -Werror
	-fsanitize=address,undefined -fno-sanitize-recover=all
	-I $root/native/include -I $root/gen"
rt="-ffreestanding -fno-stack-protector -fvisibility=hidden -fno-tree-loop-distribute-patterns"

cd "$root/native/driver-rt"
# shellcheck disable=SC2086
gcc $common $rt -c string.c -o "$out/string.o"
# shellcheck disable=SC2086
gcc $common $rt -c format.c -o "$out/format.o"
# shellcheck disable=SC2086
gcc $common $rt -c format_float.c -o "$out/format_float.o"
# the POSIX personality's side of the formatter: %m's text and EOVERFLOW's errno, as drivers get them
# shellcheck disable=SC2086
gcc $common $rt -c posix/strerror.c -o "$out/strerror.o"
# shellcheck disable=SC2086
gcc $common -c test_format.c -o "$out/test_format.o"
# shellcheck disable=SC2086
gcc $common -o "$out/test_format" "$out/test_format.o" "$out/string.o" "$out/format.o" "$out/format_float.o" "$out/strerror.o"

ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/test_format"

# The POSIX personality's pure parts, in place of the host libc's.
posix="posix/number.c posix/ctype.c posix/string.c posix/strerror.c posix/scanf.c posix/strtod.c posix/sort.c posix/random.c posix/path.c posix/inet.c posix/sigset.c posix/calendar.c posix/strftime.c"
for src in $posix; do
	# shellcheck disable=SC2086
	gcc $common $rt -c "$src" -o "$out/posix_$(basename "$src" .c).o"
done
# shellcheck disable=SC2086
gcc $common -D_GNU_SOURCE -o "$out/test_pure" posix/test_pure.c "$out"/posix_*.o -lm
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/test_pure"

# Its per-thread state and keys, on the host's threads (on domain-like stacks).
for src in posix/thread_slot.c posix/keys.c; do
	# shellcheck disable=SC2086
	gcc $common $rt -c "$src" -o "$out/threads_$(basename "$src" .c).o"
done
# shellcheck disable=SC2086
gcc $common -pthread -I posix -o "$out/test_threads" posix/test_threads.c "$out"/threads_*.o
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/test_threads"

# Its waits (conditions, pthread_once, mutexes, the streams' word lock,
# semaphores, rwlocks, barriers) on
# the host's threads, the kernel's calls stood in for with real futexes.
for src in posix/cond.c posix/pthread.c posix/word_lock.c posix/semaphore.c posix/rwlock.c posix/barrier.c posix/timespec.c; do
	# shellcheck disable=SC2086
	gcc $common $rt -c "$src" -o "$out/waits_$(basename "$src" .c).o"
done
# shellcheck disable=SC2086
gcc $common -pthread -I posix -o "$out/test_waits" posix/test_waits.c "$out"/waits_*.o
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/test_waits"

# Its directories, over one of the host's (made under $out).
# shellcheck disable=SC2086
gcc $common $rt -c posix/dirent.c -o "$out/dirent.o"
# shellcheck disable=SC2086
gcc $common -I posix -o "$out/test_dirent" posix/test_dirent.c "$out/dirent.o"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 "$out/test_dirent" "$out"

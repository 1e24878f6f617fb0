#!/bin/sh
# Unit tests of native/domain, run on the host: slot_use.h (how a thread that
# finds a domain by its slot keeps it from being freed under it) under ASan
# and UBSan, then under TSan (test/domain-slot-use.test.ts).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
# A directory of its own: two checkouts (or two runs) never link each other's objects.
out=$(mktemp -d "${TMPDIR:-/tmp}/nooks-domain-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
cd "$root/native/domain"

warn="-Wall -Wextra -Werror"
g++ $warn -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -std=c++17 -O1 -g -pthread \
	-o "$out/test_slot_use_asan" test/test_slot_use.cc
ASAN_OPTIONS=detect_leaks=1 "$out/test_slot_use_asan"
g++ $warn -fsanitize=thread -std=c++17 -O1 -g -pthread -o "$out/test_slot_use_tsan" test/test_slot_use.cc
TSAN_OPTIONS=halt_on_error=1 "$out/test_slot_use_tsan"

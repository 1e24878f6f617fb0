#!/bin/sh
# Check what the build made of every driver in drivers/*/ (build/drivers/*.so)
# and of the driver runtime (build/Release/driver_rt.a):
#  - imports: only kernel calls (the names in gen/nooks/kapi_calls.h);
#  - exports: only nooks_module_init/exit, the deferred-call runner and the
#    NOOKS_EXPORT functions;
#  - no TLS, no libraries needed, and a runtime that keeps no state.
# Scratch files go to $OUT (default /tmp/nooks-drivers).
set -eu
export LC_ALL=C	# one sort order for sort and comm
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/nooks-drivers}
calls_h=$root/gen/nooks/kapi_calls.h

rt_dir=$root/build/Release/obj.target/driver_rt/native/driver-rt
rt_lib=$root/build/Release/driver_rt.a
[ -f "$rt_lib" ] || { echo "build-check: $rt_lib missing: run npm run build" >&2; exit 1; }

if [ ! -f "$calls_h" ]; then
	echo "build-check: $calls_h missing;" \
	     "run: npx tsc -p . && node dist/lib/wrappers/generate.js" >&2
	exit 1
fi
mkdir -p "$out"
fail=0
bad() { echo "  FAIL: $*"; fail=1; }

# Kernel calls: the name before the first '(' of each prototype.
sed -n 's/^[A-Za-z][^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$calls_h" | sort -u >"$out/kapi.names"
[ -s "$out/kapi.names" ] || { echo "build-check: no kernel calls found in $calls_h" >&2; exit 1; }

echo "runtime:"
rt_objs="$rt_dir/string.o $rt_dir/format.o $rt_dir/batch.o $rt_dir/lkdtm.o"
# no state: no data, bss or TLS sections with contents
# shellcheck disable=SC2086
state=$(size -A $rt_objs | awk '$1 ~ /^\.(data|bss|tdata|tbss)/ && $2 > 0 { print $1 }')
[ -z "$state" ] || bad "runtime has writable state: $state"
# what it needs from outside itself: nooks_log, kmalloc/kfree for the injected bugs (lkdtm.c), and, weak,
# the POSIX personality's text of %m and its EOVERFLOW for a result past INT_MAX (format.c: absent, NULL,
# outside the personality; their addresses taken through the linker's _GLOBAL_OFFSET_TABLE_)
nm --defined-only "$rt_lib" | awk 'NF == 3 && $2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$out/rt.defined"
nm --undefined-only "$rt_lib" | awk 'NF == 2 { print $2 }' | sort -u >"$out/rt.undefined"
imports=$(comm -23 "$out/rt.undefined" "$out/rt.defined")
want="_GLOBAL_OFFSET_TABLE_ format_error_text format_overflowed kfree kmalloc nooks_log"
[ "$(echo $imports)" = "$want" ] || bad "runtime imports: $(echo $imports) (want $want)"
# no function calls itself by name (GCC turning memset's loop into memset()); lkdtm.c's
# unbounded recursion is one of the bugs it injects on purpose
selfcalls=$(objdump -dr $rt_dir/string.o $rt_dir/format.o $rt_dir/batch.o | awk '
	/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3) }
	/R_X86_64_(PLT32|PC32)/ { sym = $3; sub(/[-+]0x[0-9a-f]+$/, "", sym); if (sym == fn) print fn }' | sort -u)
[ -z "$selfcalls" ] || bad "runtime functions call themselves: $(echo $selfcalls)"
# everything hidden but the deferred-call runner: the runtime is part of each driver, not its interface
# shellcheck disable=SC2086
visible=$(readelf -sW $rt_objs | awk '$5 == "GLOBAL" && $7 != "UND" && $6 != "HIDDEN" && $8 != "nooks_batch_run" { print $8 }')
[ -z "$visible" ] || bad "runtime symbols not hidden: $visible"
[ $fail -eq 0 ] && echo "  ok: imports $(echo $imports), no state, all symbols hidden, no self-calls"

for dir in "$root"/drivers/*/; do
	name=$(basename "$dir")
	src=$dir$name.c
	[ -f "$src" ] || continue
	so=$root/build/drivers/$name.so
	echo "$name:"
	[ -f "$so" ] || { bad "$so missing: run npm run build"; continue; }

	# imports: kernel calls only
	nm -D --undefined-only "$so" | awk '{ print $NF }' | sort -u >"$out/$name.imports"
	extra=$(comm -23 "$out/$name.imports" "$out/kapi.names")
	[ -z "$extra" ] || bad "imports that are not kernel calls: $(echo $extra)"

	# exports: the entry points its sources declare, nothing else
	{
		grep -Eq '^(module_init|module_pci_driver)\(' "$src" && echo nooks_module_init
		grep -Eq '^(module_exit|module_pci_driver)\(' "$src" && echo nooks_module_exit
		echo nooks_batch_run	# the runtime's deferred-call runner
		sed -n 's/^NOOKS_EXPORT[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$dir"*.c	# every source of the driver
	} | sort -u >"$out/$name.want"
	nm -D --defined-only "$so" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$out/$name.exports"
	if ! cmp -s "$out/$name.want" "$out/$name.exports"; then
		bad "exports differ from the source's entry points (< expected, > found):"
		diff "$out/$name.want" "$out/$name.exports" | sed -n 's/^[<>].*/    &/p'
	fi

	# loadable as is: no libraries, no TLS, no text relocations, bound now
	readelf -dW "$so" | grep -q '(NEEDED)' && bad "needs a library: $(readelf -dW "$so" | grep '(NEEDED)')"
	readelf -dW "$so" | grep -q '(TEXTREL)' && bad "has text relocations"
	readelf -dW "$so" | grep -Eq '\(FLAGS\).*BIND_NOW' || bad "not linked with -z now"
	readelf -lW "$so" | grep -q '^ *TLS ' && bad "has a TLS segment"

	echo "  imports: $(echo $(cat "$out/$name.imports"))"
	echo "  exports: $(echo $(cat "$out/$name.exports"))"
	rt=$(nm "$so" | awk '$2 == "t" && $3 ~ /^(mem|str|v?snprintf$|printk$)/ { print $3 }' | sort)
	[ -z "$rt" ] || echo "  runtime linked in (local): $(echo $rt)"
done

if [ $fail -ne 0 ]; then
	echo "build-check: FAILED"
	exit 1
fi
echo "build-check: ok ($out)"

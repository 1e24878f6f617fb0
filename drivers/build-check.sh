#!/bin/sh
# Build every driver in drivers/*/ with the driver runtime, exactly as the
# loader expects them, into $OUT (default /tmp/nooks-drivers), and check
# what each .so imports and exports:
#  - imports: only kernel calls (the names in gen/nooks/kapi_calls.h);
#  - exports: only nooks_module_init/exit and the NOOKS_EXPORT functions;
#  - no TLS, no libraries needed, and a runtime that keeps no state.
set -eu
export LC_ALL=C	# one sort order for sort and comm
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/nooks-drivers}
calls_h=$root/gen/nooks/kapi_calls.h

CFLAGS="-std=gnu11 -O2 -fPIC -ffreestanding -fno-builtin -fno-stack-protector
	-fvisibility=hidden -fcf-protection=none -Wall -Wextra -Werror
	-I $root/native/include -I $root/gen"
# the runtime implements memset & co.: GCC must not turn its loops into calls to them
RT_CFLAGS="$CFLAGS -fno-tree-loop-distribute-patterns"
LDFLAGS="-shared -nostdlib -Wl,-z,now"

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
rt_objs=
for src in "$root"/native/driver-rt/string.c "$root"/native/driver-rt/format.c; do
	obj=$out/$(basename "$src" .c).o
	# shellcheck disable=SC2086
	gcc $RT_CFLAGS -c "$src" -o "$obj"
	rt_objs="$rt_objs $obj"
done
rm -f "$out/libdriver_rt.a"
# shellcheck disable=SC2086
ar rcs "$out/libdriver_rt.a" $rt_objs
# no state: no data, bss or TLS sections with contents
# shellcheck disable=SC2086
state=$(size -A $rt_objs | awk '$1 ~ /^\.(data|bss|tdata|tbss)/ && $2 > 0 { print $1 }')
[ -z "$state" ] || bad "runtime has writable state: $state"
# what it needs from outside itself: nooks_log alone
nm --defined-only "$out/libdriver_rt.a" | awk 'NF == 3 && $2 ~ /^[A-Z]$/ { print $3 }' | sort -u >"$out/rt.defined"
nm --undefined-only "$out/libdriver_rt.a" | awk 'NF == 2 { print $2 }' | sort -u >"$out/rt.undefined"
imports=$(comm -23 "$out/rt.undefined" "$out/rt.defined")
[ "$imports" = nooks_log ] || bad "runtime imports: $(echo $imports) (want only nooks_log)"
# no function calls itself by name (GCC turning memset's loop into memset())
selfcalls=$(objdump -dr "$out/string.o" "$out/format.o" | awk '
	/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3) }
	/R_X86_64_(PLT32|PC32)/ { sym = $3; sub(/[-+]0x[0-9a-f]+$/, "", sym); if (sym == fn) print fn }' | sort -u)
[ -z "$selfcalls" ] || bad "runtime functions call themselves: $(echo $selfcalls)"
# everything hidden: the runtime is part of each driver, not its interface
# shellcheck disable=SC2086
visible=$(readelf -sW $rt_objs | awk '$5 == "GLOBAL" && $7 != "UND" && $6 != "HIDDEN" { print $8 }')
[ -z "$visible" ] || bad "runtime symbols not hidden: $visible"
[ $fail -eq 0 ] && echo "  ok: imports $(echo $imports), no state, all symbols hidden, no self-calls"

for dir in "$root"/drivers/*/; do
	name=$(basename "$dir")
	src=$dir$name.c
	[ -f "$src" ] || continue
	so=$out/$name.so
	echo "$name:"
	# shellcheck disable=SC2086
	gcc $CFLAGS -c "$src" -o "$out/$name.o"
	# shellcheck disable=SC2086
	gcc $LDFLAGS -o "$so" "$out/$name.o" "$out/libdriver_rt.a"

	# imports: kernel calls only
	nm -D --undefined-only "$so" | awk '{ print $NF }' | sort -u >"$out/$name.imports"
	extra=$(comm -23 "$out/$name.imports" "$out/kapi.names")
	[ -z "$extra" ] || bad "imports that are not kernel calls: $(echo $extra)"

	# exports: the entry points the source declares, nothing else
	{
		grep -q '^module_init(' "$src" && echo nooks_module_init
		grep -q '^module_exit(' "$src" && echo nooks_module_exit
		sed -n 's/^NOOKS_EXPORT[^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$src"
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

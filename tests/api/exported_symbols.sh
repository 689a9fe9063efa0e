#!/bin/sh
# The shared library exports exactly the documented public API: every name
# declared with SKY_API in include/skyengine/*.h, and nothing else (no
# internal sky__* helper, no util or store function, no symbol of a
# bundled library). The list is read from the headers, so it cannot drift.
#
# usage: exported_symbols.sh <libskyengine.so> <include dir>
set -eu
lib=$1
inc=$2
tmp=${TMPDIR:-/tmp}/sky-exported.$$
trap 'rm -f "$tmp".*' EXIT

# Declarations end with ';'. Drop preprocessor lines (with their
# continuations) and comments, flatten, keep the declarations that carry
# SKY_API, and take the declared name: the last identifier before the
# first '(' (a function) or '[' (an array).
for h in "$inc"/skyengine.h "$inc"/skyengine/*.h; do
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$h" | grep -v '^[[:space:]]*#'
	echo
done | tr '\n' ' ' | sed 's:/\*:\n/*:g; s:\*/:*/\n:g' | grep -v '^/\*' |
	tr -d '\n' | tr ';' '\n' | grep 'SKY_API' |
	sed -E 's/^.*SKY_API[[:space:]]+//; s/[[:space:]]*[(\[].*$//; s/^.*[^A-Za-z0-9_]//' |
	sort -u >"$tmp.declared"

# AddressSanitizer adds an ODR indicator (__odr_asan.<name>) beside each
# exported variable: instrumentation, not API.
nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' |
	grep -v '^__odr_asan[._]' | sort -u >"$tmp.exported"

n=$(wc -l <"$tmp.declared")
if [ "$n" -lt 40 ]; then
	echo "only $n SKY_API declarations found in $inc: the parser is broken" >&2
	exit 1
fi
status=0
extra=$(comm -13 "$tmp.declared" "$tmp.exported")
missing=$(comm -23 "$tmp.declared" "$tmp.exported")
if [ -n "$extra" ]; then
	echo "exported but not declared with SKY_API in a public header:" >&2
	echo "$extra" | sed 's/^/  /' >&2
	status=1
fi
if [ -n "$missing" ]; then
	echo "declared with SKY_API but not exported (not defined?):" >&2
	echo "$missing" | sed 's/^/  /' >&2
	status=1
fi
[ $status -eq 0 ] && echo "$n public symbols, all exported, nothing else"
exit $status

#!/bin/sh
# ABI symbol list test: the dynamic symbols that the built libxmpp.so
# exports must be exactly those listed in doc/symbols (one NAME@@VERSION per
# line, sorted with LC_ALL=C sort).
#
#   - a symbol exported but not listed fails: a new public function must be
#     added to the list on purpose ("add it to doc/symbols"), and anything
#     exported by accident must be hidden instead;
#   - a listed symbol that is not exported any more fails: "removing an
#     exported symbol breaks the ABI" (doc/versioning.md says what to do);
#   - a symbol that moved to another version node shows up as both.
#
# Usage (from `make check`, or by hand from the build directory):
#   tests/abi/symbols.sh            compare
#   tests/abi/symbols.sh --update   rewrite doc/symbols from the built library
# e.g. sh ../tests/abi/symbols.sh --update   (in build/, after `make`)
#
# Environment: top_srcdir, top_builddir (set by `make check`; default: the
# source tree, and the current directory), LIBXMPP_SO (the library to
# inspect; default top_builddir/lib/.libs/libxmpp.so).
# Exit: 0 pass, 1 fail, 99 hard error (no library, no readelf).
set -u
LC_ALL=C
export LC_ALL
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
lib=${LIBXMPP_SO:-$builddir/lib/.libs/libxmpp.so}
list=$srcdir/doc/symbols

if [ ! -f "$lib" ]; then
  echo "symbols: ERROR: $lib is not built (run make first)" >&2
  exit 99
fi
if ! command -v readelf >/dev/null 2>&1; then
  echo "symbols: ERROR: readelf not found (Debian package binutils)" >&2
  exit 99
fi

# exports: defined (section index not UND), global or weak, real symbols
# (not the ABS entries that name the version nodes), with their version
# as readelf prints it: name@@VERSION for the default version.
exports() {
  readelf --dyn-syms -W "$1" |
    awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $7 != "ABS" &&
         ($5 == "GLOBAL" || $5 == "WEAK") && $8 != "" { print $8 }' |
    sort -u
}

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
exports "$lib" >"$tmp/built" || exit 99
if [ ! -s "$tmp/built" ]; then
  echo "symbols: ERROR: no exported symbol found in $lib" >&2
  exit 99
fi

if [ "${1:-}" = --update ]; then
  cp "$tmp/built" "$list" || exit 99
  echo "symbols: wrote $(wc -l <"$tmp/built") symbols to $list"
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--update]" >&2
  exit 99
fi

if [ ! -f "$list" ]; then
  echo "FAIL: $list is missing: create it with $0 --update"
  exit 1
fi

fail=0
# the list itself: sorted, no duplicates, no blank lines
if ! sort -c -u "$list" 2>/dev/null || grep -q '^$' "$list"; then
  echo "FAIL: doc/symbols is not sorted, has duplicates or blank lines (LC_ALL=C sort -u)"
  fail=1
fi
sort -u "$list" | grep -v '^$' >"$tmp/listed"

comm -23 "$tmp/built" "$tmp/listed" >"$tmp/added"
comm -13 "$tmp/built" "$tmp/listed" >"$tmp/removed"
while read -r sym; do
  echo "FAIL: $sym is exported by the library but not listed: add it to doc/symbols" \
    "(a new public function; or hide it if it is not meant to be public)"
  fail=1
done <"$tmp/added"
while read -r sym; do
  echo "FAIL: $sym is listed in doc/symbols but not exported:" \
    "removing an exported symbol breaks the ABI (see doc/versioning.md)"
  fail=1
done <"$tmp/removed"
if [ "$fail" = 0 ]; then
  echo "symbols: $(wc -l <"$tmp/built") exported symbols match doc/symbols"
else
  echo "symbols: to accept the library's exports as they are: $0 --update"
fi
exit "$fail"

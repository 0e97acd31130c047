#!/bin/sh
# The guide's complete programs still build: every ```c block of
# doc/guide.md that starts with #include is compiled as C99 with -Wall
# -Wextra -Werror and linked against the built library (fragments, the
# blocks that do not start with #include, are not checked).
#
# Environment: top_srcdir, top_builddir (from `make check`), CC, SAN_FLAGS.
# Exit: 0 pass, 1 fail, 99 hard error (no library, no program found).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-.}
CC=${CC:-cc}
guide=$srcdir/doc/guide.md
lib=$builddir/lib/.libs/libxmpp.so
if [ ! -f "$lib" ]; then
  echo "guide-check: ERROR: $lib is not built" >&2
  exit 99
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# split the complete programs into prog1.c, prog2.c, ...
awk -v dir="$tmp" '
  /^```c$/ { inblock = 1; first = 1; next }
  /^```$/ && inblock { inblock = 0; if (out != "") close(out); out = ""; next }
  inblock && first { first = 0; if ($0 ~ /^#include/) out = sprintf("%s/prog%d.c", dir, ++n) }
  inblock && out != "" { print > out }
' "$guide"

fail=0
n=0
for f in "$tmp"/prog*.c; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  # shellcheck disable=SC2086
  if $CC -std=c99 -Wall -Wextra -Werror -Wno-unused-parameter ${SAN_FLAGS:-} \
    -I"$srcdir/include" -I"$builddir/include" "$f" -o "$tmp/prog" "$lib" 2>"$tmp/err"; then
    echo "ok: program $n of doc/guide.md ($(head -n 1 "$f" | cut -c1-40)..., $(wc -l <"$f") lines) builds"
  else
    echo "FAIL: program $n of doc/guide.md does not build:"
    sed 's/^/    /' "$tmp/err" | head -n 20
    fail=1
  fi
done
if [ "$n" = 0 ]; then
  echo "guide-check: ERROR: no complete program (a \`\`\`c block starting with #include) in $guide" >&2
  exit 99
fi
exit "$fail"

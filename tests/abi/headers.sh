#!/bin/sh
# Header test: every public header (xmpp/, xmpp/sys/, xmpp/xep/) compiles on its own as C89 -pedantic,
# C99, C11 and C++; and a two-line program using <xmpp/xmpp.h> compiles and
# links against the built shared library.
set -u
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
CC=${CC:-cc}
CXX=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inc="-I$srcdir/include -I$builddir/include"
fail=0
pass=0
for h in "$srcdir"/include/xmpp/*.h "$srcdir"/include/xmpp/sys/*.h "$srcdir"/include/xmpp/xep/*.h \
         "$builddir"/include/xmpp/version.h; do
  [ -f "$h" ] || continue
  case $h in
    */include/xmpp/sys/*) name=xmpp/sys/$(basename "$h") ;;
    */include/xmpp/xep/*) name=xmpp/xep/$(basename "$h") ;;
    *) name=xmpp/$(basename "$h") ;;
  esac
  printf '#include <%s>\nint main(void) { return 0; }\n' "$name" > "$tmp/t.c"
  for std in "-std=c89 -pedantic-errors -Wall -Wextra -Werror" "-std=c99 -Wall -Werror" "-std=c11 -Wall -Werror"; do
    if $CC $std $inc -c "$tmp/t.c" -o "$tmp/t.o" 2> "$tmp/err"; then
      pass=$((pass + 1))
    else
      echo "FAIL: $name with $CC $std"; cat "$tmp/err"; fail=$((fail + 1))
    fi
  done
  cp "$tmp/t.c" "$tmp/t.cpp"
  if $CXX -std=c++11 -Wall -Werror $inc -c "$tmp/t.cpp" -o "$tmp/t.o" 2> "$tmp/err"; then
    pass=$((pass + 1))
  else
    echo "FAIL: $name as C++"; cat "$tmp/err"; fail=$((fail + 1))
  fi
done
# the two-line program, linked with the library
cat > "$tmp/two.c" <<'C'
#include <xmpp/xmpp.h>
int main(void) { return xmpp_version_string()[0] == '\0'; }
C
lib=$(ls "$builddir"/lib/.libs/libxmpp.so 2>/dev/null)
if [ -n "$lib" ]; then
  for std in -std=c89 -std=c99; do
    if $CC $std -pedantic ${SAN_FLAGS:-} $inc "$tmp/two.c" -o "$tmp/two" "$lib" && LD_LIBRARY_PATH="$builddir/lib/.libs" "$tmp/two"; then
      pass=$((pass + 1))
    else
      echo "FAIL: two-line program ($std)"; fail=$((fail + 1))
    fi
  done
  cp "$tmp/two.c" "$tmp/two.cpp"
  if $CXX ${SAN_FLAGS:-} $inc "$tmp/two.cpp" -o "$tmp/two" "$lib" && LD_LIBRARY_PATH="$builddir/lib/.libs" "$tmp/two"; then
    pass=$((pass + 1))
  else
    echo "FAIL: two-line program (C++)"; fail=$((fail + 1))
  fi
  # only xmpp_* symbols are exported
  bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^xmpp_' | grep -v '^XMPP_' || true)
  internal=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -E '^xmpp__|^xmpp_xml_' || true)
  if [ -n "$bad$internal" ]; then
    echo "FAIL: unexpected exported symbols: $bad $internal"; fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
else
  echo "FAIL: shared library not built"; fail=$((fail + 1))
fi
echo "headers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

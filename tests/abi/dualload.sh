#!/bin/sh
# Dual-load test: libxmpp keeps working in a process where libstrophe, which
# exports functions of the same names (xmpp_ctx_new, xmpp_stanza_new,
# xmpp_jid_domain, xmpp_free, ...), was loaded first into the global scope.
#
#  1. static: libxmpp.so has no dynamic relocation against any xmpp_*
#     symbol, i.e. its calls to its own exported functions were bound at
#     link time (-Bsymbolic-functions) and cannot be interposed;
#  2. tests/abi/dualload dlopen: libstrophe dlopen'ed with RTLD_GLOBAL, then
#     libxmpp; libxmpp functions that call other exported libxmpp functions
#     (builders, copy, serialiser, IQ result, JIDs, session start with the
#     stream header) give the right results, libstrophe calls in between too;
#  3. the same with libstrophe in LD_PRELOAD.
#
# Skips (77) when libstrophe is not installed (after step 1 passed).
# Environment: top_srcdir, top_builddir (from `make check`), LIBXMPP_SO
# (default top_builddir/lib/.libs/libxmpp.so), LIBSTROPHE_SO (default
# libstrophe.so.0, found by the dynamic loader).
set -u
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd) || exit 99
lib=${LIBXMPP_SO:-$builddir/lib/.libs/libxmpp.so}
strophe=${LIBSTROPHE_SO:-libstrophe.so.0}
prog=$builddir/tests/abi/dualload
case $lib in /*) ;; *) lib=$(pwd)/$lib ;; esac

for f in "$lib" "$prog"; do
  if [ ! -f "$f" ]; then
    echo "dualload: ERROR: $f is not built" >&2
    exit 99
  fi
done

fail=0
# 1. no relocation may name one of libxmpp's own functions
if ! command -v readelf >/dev/null 2>&1; then
  echo "dualload: ERROR: readelf not found (Debian package binutils)" >&2
  exit 99
fi
relocs=$(readelf -rW "$lib" | awk '{ print $5 }' | grep '^xmpp_' | sort -u)
if [ -z "$relocs" ]; then
  echo "ok: libxmpp has no dynamic relocation against its own xmpp_* functions"
else
  n=$(echo "$relocs" | wc -l)
  echo "FAIL: libxmpp calls $n of its own exported functions through the PLT, so another" \
    "library's xmpp_* functions replace them (link with -Bsymbolic-functions):" \
    $(echo "$relocs" | head -n 6) "..."
  fail=1
fi

# 2. libstrophe dlopen'ed first
"$prog" dlopen "$lib" "$strophe"
rc=$?
if [ "$rc" = 77 ]; then
  echo "dualload: SKIP: libstrophe ($strophe) cannot be loaded: install the Debian package" \
    "libstrophe-dev to run the dual-load checks"
  [ "$fail" = 0 ] && exit 77
  exit 1
fi
[ "$rc" = 0 ] || { echo "FAIL: dualload dlopen exited with status $rc"; fail=1; }

# 3. libstrophe preloaded. An ASan-instrumented program insists on its
# runtime coming first among the initial libraries: let it be second.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
  LD_PRELOAD="$strophe${LD_PRELOAD:+ $LD_PRELOAD}" "$prog" preload "$lib" "$strophe"
rc=$?
[ "$rc" = 0 ] || { echo "FAIL: dualload preload exited with status $rc"; fail=1; }

if [ "$fail" = 0 ]; then
  echo "dualload: passed"
else
  echo "dualload: FAILED"
fi
exit "$fail"

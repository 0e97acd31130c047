#!/bin/sh
# Makes the API reference as man(3) pages, ready to install:
#
#   doc/man3.sh SRCDIR OUTDIR
#
# runs Doxygen (the DOXYGEN variable, default doxygen) with doc/Doxyfile on
# the public headers of SRCDIR, writing into OUTDIR/man3, then makes the
# pages safe to install next to every other package's:
#
#  - the page of each header is renamed from NAME.h.3 to xmpp_NAME.h.3
#    (common.h.3 would be nobody's in particular), and the .so links to it
#    follow; xmpp.h.3 keeps its name;
#  - link pages whose names lack the xmpp_/XMPP_ prefix are dropped: Doxygen
#    makes one per struct member (xmpp_allocator's malloc, realloc, free,
#    user_data), and installing malloc.3 would replace the C library's.
#
# OUTDIR/pages lists the pages to install, one per line (for install and
# uninstall). Used by doc/local.am; runs from any directory, writes nothing
# outside OUTDIR.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 SRCDIR OUTDIR" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
DOXYGEN=${DOXYGEN:-doxygen}

rm -rf "$out/man3" "$out/pages"
{
  cat "$src/doc/Doxyfile"
  echo "INPUT = \"$src/include/xmpp\""
  echo "EXCLUDE = \"$src/include/xmpp/version.h\""
  echo "STRIP_FROM_PATH = \"$src/include\""
  echo "USE_MDFILE_AS_MAINPAGE ="
  echo "OUTPUT_DIRECTORY = \"$out\""
  echo "GENERATE_HTML = NO"
  echo "GENERATE_MAN = YES"
  echo "MAN_OUTPUT = ."
  echo "MAN_SUBDIR = man3"
  echo "MAN_EXTENSION = .3"
  echo "MAN_LINKS = YES"
} | "$DOXYGEN" -

cd "$out/man3"
# header pages: NAME.h.3 -> xmpp_NAME.h.3, with a sed script for the links
: >"$out/links.sed"
for f in *.h.3; do
  [ -f "$f" ] || continue
  case $f in
    xmpp.h.3 | xmpp_*) continue ;;
  esac
  mv "$f" "xmpp_$f"
  echo "s|^\\.so[[:space:]]*man3/$f\$|.so man3/xmpp_$f|" >>"$out/links.sed"
done
for f in *.3; do
  case $f in
    xmpp_* | XMPP_* | xmpp.h.3) ;;
    *) rm -f "$f"; continue ;;
  esac
  if grep -q '^\.so' "$f"; then
    sed -f "$out/links.sed" "$f" >"$f.tmp" && mv "$f.tmp" "$f"
  fi
done
rm -f "$out/links.sed"
# every .so link must lead to a page that is installed
for f in *.3; do
  target=$(sed -n 's|^\.so[[:space:]]*man3/||p' "$f")
  if [ -n "$target" ] && [ ! -f "$target" ]; then
    echo "$0: $f links to $target, which is not installed" >&2
    exit 1
  fi
done
ls ./*.3 | sed 's|^\./||' >"$out/pages"

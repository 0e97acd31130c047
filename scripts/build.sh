#!/bin/sh
# Configures and builds libxmpp out of tree.
#   BUILD_DIR        build directory (default: build)
#   CONFIGURE_FLAGS  extra configure arguments
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$top/build}
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
  ./autogen.sh >autogen.log 2>&1 || { cat autogen.log; exit 1; }
fi
mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
# shellcheck disable=SC2086
if [ ! -f Makefile ] || [ "${RECONFIGURE:-0}" != 0 ]; then
  "$top/configure" -q ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)" >/dev/null || make V=1

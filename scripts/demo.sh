#!/bin/sh
# The README's demo command: installs dependencies, builds, and runs the
# examples. (Until the connection layer lands, the examples run offline:
# the stanza object model, the stream parser and JID preparation.)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$top/build}
export BUILD_DIR
sh "$top/scripts/install-deps.sh"
sh "$top/scripts/build.sh"
cd "$BUILD_DIR"
echo "== examples/stanza-demo"
./examples/stanza-demo
echo "== examples/jid-demo"
./examples/jid-demo

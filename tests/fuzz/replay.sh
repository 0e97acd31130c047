#!/bin/sh
# Replays every in-tree fuzz corpus (and its .repro crash directory, if any)
# through the corresponding fuzz target built as a plain program.
set -u
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
status=0
for t in parser roundtrip jid scram inflate smstate http ws bosh hostmeta proxy im; do
  bin="$builddir/tests/fuzz/replay_$t"
  dirs="$srcdir/tests/fuzz/corpus/$t"
  [ -d "$srcdir/tests/fuzz/corpus/$t.repro" ] && dirs="$dirs $srcdir/tests/fuzz/corpus/$t.repro"
  if [ ! -x "$bin" ]; then
    echo "FAIL: $bin not built"; status=1; continue
  fi
  if "$bin" $dirs; then
    echo "ok: corpus $t"
  else
    echo "FAIL: corpus $t"; status=1
  fi
done
exit $status

#!/bin/sh
# The README's test command: installs dependencies, builds, runs every test
# (unit tests, fuzz-corpus replay, header tests) and prints
# "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$top/build}
export BUILD_DIR
sh "$top/scripts/install-deps.sh" || exit 1
sh "$top/scripts/build.sh" || { echo "0 passed, 1 failed"; exit 1; }
cd "$BUILD_DIR"
make -j"$(nproc)" check >make-check.out 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XFAIL|XPASS|SKIP):' make-check.out || true
if [ $rc -ne 0 ]; then
  for log in $(grep -lE '^(FAIL|ERROR)' tests/*/*.log 2>/dev/null); do
    echo "==== $log"; tail -50 "$log"
  done
  tail -20 make-check.out
fi
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -1)
err=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -1)
pass=${pass:-0}; fail=$(( ${fail:-0} + ${err:-0} ))
[ $rc -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
exit $rc

#!/bin/sh
# Test of the Python binding example: examples/python/libxmpp.py (ctypes)
# and echo.py (asyncio), against the built library.
#
#  1. without a server: the binding loads the library, reads its version,
#     prepares a JID, and turns a negative return into libxmpp.Error;
#  2. against a private Prosody (tests/servers/prosody.sh): echo.py runs as
#     bob (the bot, ECHO_BOT_MAX=2); echo.py send, as alice, sends two
#     messages (non-ASCII text and XML special characters) to bob's full
#     JID and each time receives the echo: messages go both ways through
#     the binding. Then a wrong password ends with not-authorized (exit 1),
#     and a bot without a limit closes the stream politely on SIGTERM
#     (close() from outside the library's callbacks) and exits 0.
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=build examples/python/test.sh
# LIBXMPP_SO overrides the library (default top_builddir/lib/.libs/libxmpp.so).
#
# Prints "ok: ..." / "FAIL: ..." per check and "python: N passed, M failed".
# Exit 0 if every check passed, 1 otherwise, 77 (skip) without Prosody or
# root (after part 1), 99 if the library is not built.
#
# Network: only 127.0.0.1: every client gets XMPP_SERVER=127.0.0.1:PORT,
# so nothing asks DNS. Bounded: every client runs under `timeout`, every
# wait has a deadline; the server and the clients are stopped in an EXIT
# trap.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "test.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
PY=/usr/bin/python3 # Debian's: the first python3 on PATH may be another one
EX=$top_srcdir/examples/python
SERVERS=$top_srcdir/tests/servers
LIBXMPP_SO=${LIBXMPP_SO:-$top_builddir/lib/.libs/libxmpp.so}
PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
export LIBXMPP_SO PYTHONDONTWRITEBYTECODE
WAIT_S=10 # bound on each wait for a line
RUN_S=20  # bound on each client process

[ -x "$PY" ] || { echo "python: SKIP: $PY is missing (apt-get install python3)"; exit 77; }
if [ ! -f "$LIBXMPP_SO" ]; then
  echo "python: ERROR: $LIBXMPP_SO is not built" >&2
  exit 99
fi
# A library built with --enable-sanitizers needs the ASan runtime loaded
# first, which python is not linked with: preload it (for python only),
# and leave out leak checking, which would report the interpreter's.
if ldd "$LIBXMPP_SO" 2>/dev/null | grep -q 'libasan'; then
  asan=$(${CC:-cc} -print-file-name=libasan.so)
  [ -f "$asan" ] || { echo "python: ERROR: cannot find libasan.so with ${CC:-cc}" >&2; exit 99; }
  PY="env LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 $PY"
fi

PASSED=0
FAILED=0
pass() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
failed() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
summary() { echo "python: $PASSED passed, $FAILED failed"; }

WORK=$(mktemp -d /tmp/libxmpp-py.XXXXXX) || exit 99
SRV=""
BG=""
cleanup() {
  rc=$?
  trap - EXIT INT TERM HUP
  for p in $BG; do kill -KILL "$p" 2>/dev/null; done
  for p in $BG; do wait "$p" 2>/dev/null; done
  if [ -n "$SRV" ]; then
    "$SERVERS/prosody.sh" stop "$SRV" >/dev/null 2>&1 || echo "python: could not stop $SRV" >&2
    rm -rf "$SRV"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# show FILE...: the tail of logs, indented, after a failure
show() {
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "    --- ${f##*/}"
    tail -n 8 "$f" | sed 's/^/    /'
  done
}

# ---- 1. the binding alone
if timeout -k 2 "$RUN_S" $PY - "$EX" >"$WORK/offline.out" 2>&1 <<'EOF'; then
import sys
sys.path.insert(0, sys.argv[1])
import libxmpp
v = libxmpp.version()
assert v.count(".") == 2 and all(p.isdigit() for p in v.split(".")), v
ctx = libxmpp.Context()
assert libxmpp.bare_jid(ctx, "Juliet@Example.COM/balcony") == "juliet@example.com"
try:
    libxmpp.bare_jid(ctx, "a@@b")
    raise AssertionError("a@@b was accepted")
except libxmpp.Error as e:
    assert e.code == -11 and "malformed" in str(e), (e.code, str(e))
ctx.free()
print("version", v)
EOF
  pass "the binding loads $LIBXMPP_SO ($(cat "$WORK/offline.out")), prepares JIDs, raises Error"
else
  failed "the binding without a server"
  show "$WORK/offline.out"
fi

# ---- 2. against Prosody
skip() {
  summary
  echo "python: SKIP (server part): $*"
  [ "$FAILED" = 0 ] && exit 77
  exit 1
}
[ "$(id -u)" = 0 ] || skip "needs root (Prosody runs as its own user via setpriv)"
command -v prosody >/dev/null 2>&1 ||
  skip "prosody is not installed (apt-get install prosody prosody-modules lua-sec)"
for t in setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done

SRV=$(mktemp -d /tmp/libxmpp-py-srv.XXXXXX) || exit 99
chmod 755 "$SRV"
if ! "$SERVERS/prosody.sh" start "$SRV" >"$WORK/start.log" 2>&1; then
  cat "$WORK/start.log"
  SRV="" # start removed it
  failed "prosody did not start"
  summary
  exit 1
fi
# shellcheck disable=SC1091
. "$SRV/env"
XMPP_SERVER=$XMPP_HOST:$XMPP_PORT
export XMPP_SERVER XMPP_CAFILE

# wait_line FILE REGEX PID: until FILE has a line matching REGEX (at most
# WAIT_S); gives up early when PID has exited
wait_line() {
  i=0
  while [ "$i" -lt $((WAIT_S * 20)) ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { grep -Eq -- "$2" "$1" 2>/dev/null; return; }
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# the accounts, as prefixes of a command (env, not a shell function: the
# pid of a background job is then the client's, and signals reach it)
AS_ALICE="env XMPP_JID=$ALICE_JID XMPP_PASSWORD=$ALICE_PASSWORD"
AS_BOB="env XMPP_JID=$BOB_JID XMPP_PASSWORD=$BOB_PASSWORD"

# the bot, as bob: two echoes, then a clean end
$AS_BOB ECHO_BOT_MAX=2 timeout -k 2 "$RUN_S" $PY "$EX/echo.py" \
  >"$WORK/bot.out" 2>"$WORK/bot.err" &
bot=$!
BG="$BG $bot"
if wait_line "$WORK/bot.out" "^ready as $BOB_JID/" "$bot"; then
  BOB_FULL=$(sed -n 's/^ready as //p' "$WORK/bot.out" | head -n 1)
  pass "echo.py logs in as $BOB_FULL"
else
  failed "echo.py (bob) did not log in within ${WAIT_S}s"
  show "$WORK/bot.out" "$WORK/bot.err"
  summary
  exit 1
fi

n=0
for text in 'héllo wörld ☃ 🐍' 'tags <b>&amp;</b> "quotes" '"'"'apostrophes'"'"; do
  n=$((n + 1))
  out=$WORK/send$n.out err=$WORK/send$n.err
  $AS_ALICE timeout -k 2 "$RUN_S" $PY "$EX/echo.py" send "$BOB_FULL" "$text" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" = 0 ] && grep -Fxq "answer from $BOB_FULL: $text" "$out"; then
    pass "alice -> bob -> alice: \"$text\""
  else
    failed "alice's echo.py send #$n (exit $rc, expected 0 and the echo of \"$text\")"
    show "$out" "$err" "$WORK/bot.out" "$WORK/bot.err"
  fi
done

# the bot saw both, from alice, and ended cleanly after the second
i=0
while kill -0 "$bot" 2>/dev/null && [ "$i" -lt $((WAIT_S * 20)) ]; do
  sleep 0.05
  i=$((i + 1))
done
wait "$bot"
rc=$?
echoes=$(grep -c "^echoed to $ALICE_JID/" "$WORK/bot.out")
if [ "$rc" = 0 ] && [ "$echoes" = 2 ] && [ ! -s "$WORK/bot.err" ]; then
  pass "the bot echoed 2 messages from alice and exited 0"
else
  failed "the bot: exit $rc after $echoes echoes (expected 0 after 2, no error output)"
  show "$WORK/bot.out" "$WORK/bot.err"
fi

# a wrong password: the session's error comes through the binding
$AS_ALICE XMPP_PASSWORD=wrong-password timeout -k 2 "$RUN_S" $PY "$EX/echo.py" \
  >"$WORK/badpw.out" 2>"$WORK/badpw.err"
rc=$?
if [ "$rc" = 1 ] && grep -q "sasl: .*not-authorized" "$WORK/badpw.err"; then
  pass "a wrong password ends with sasl not-authorized (exit 1)"
else
  failed "wrong password: exit $rc (expected 1 and a sasl not-authorized message)"
  show "$WORK/badpw.out" "$WORK/badpw.err"
fi

# SIGTERM: close() from outside the callbacks, a polite end, exit 0. No
# timeout(1) here (it would answer the signal itself): the wait below is
# bounded, and the EXIT trap kills what is left.
$AS_BOB $PY "$EX/echo.py" >"$WORK/term.out" 2>"$WORK/term.err" &
bot=$!
BG="$BG $bot"
if wait_line "$WORK/term.out" "^ready as $BOB_JID/" "$bot"; then
  kill -TERM "$bot"
  i=0
  while kill -0 "$bot" 2>/dev/null && [ "$i" -lt $((WAIT_S * 20)) ]; do
    sleep 0.05
    i=$((i + 1))
  done
  if kill -0 "$bot" 2>/dev/null; then
    kill -KILL "$bot"
  fi
  wait "$bot"
  rc=$?
  if [ "$rc" = 0 ] && [ ! -s "$WORK/term.err" ]; then
    pass "SIGTERM closes the stream politely (exit 0)"
  else
    failed "SIGTERM: exit $rc (expected 0, no error output)"
    show "$WORK/term.out" "$WORK/term.err"
  fi
else
  failed "echo.py (bob, second run) did not log in"
  show "$WORK/term.out" "$WORK/term.err"
fi

summary
[ "$FAILED" = 0 ]

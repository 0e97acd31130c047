#!/bin/bash
# Integration test of the event-loop examples (examples/echo-bot.c,
# glib-client.c, libuv-client.c, sansio-client.c) against a private Prosody
# (tests/servers/prosody.sh).
#
# For each example: start it as bob with ECHO_BOT_MAX=1 and wait for its
# "ready as JID" line; start `xmpp-cli listen --count 1` as alice and wait
# for its "logged in as" line (it has sent its initial presence then); send
# bob "ping N NAME" from a second alice session (`xmpp-cli send`, which sends
# no presence). The bot echoes to alice's bare JID, which Prosody delivers to
# alice's available resources only, i.e. to the listener: deterministic.
# Checks: the bot logs in, the send succeeds, the listener prints the echo
# (a JSON line with the body, from bob) and exits 0, the bot exits 0 after
# its one echo.
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=/tmp/build-main tests/integration/examples.sh
#
# Prints "ok: ..." or "FAIL: ..." per check and "examples: N passed, M
# failed". Exit 0 if every check passed, 1 otherwise, 77 (skip) without
# Prosody or root, 99 if xmpp-cli is not built. An example that was not
# built (glib-client and libuv-client need GLib and libuv at configure
# time) is reported as "skip: ..." and not counted.
#
# Network: only 127.0.0.1, with XMPP_SERVER/--server set, so nothing asks
# DNS. Bounded: every client runs under `timeout`, every wait has a
# deadline; the server and the clients are stopped in an EXIT trap.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "examples.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
EXAMPLES=$top_builddir/examples
CLI=$EXAMPLES/xmpp-cli
SERVERS=$top_srcdir/tests/servers
WAIT_S=10   # bound on each wait for a line
RUN_S=15    # bound on each client process

skip() {
  echo "examples: SKIP: $*"
  exit 77
}

# ---- prerequisites
[ "$(id -u)" = 0 ] || skip "needs root (Prosody runs as its own user via setpriv)"
command -v prosody >/dev/null 2>&1 || skip "prosody is not installed (apt-get install prosody prosody-modules lua-sec)"
for t in setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
if [ ! -x "$CLI" ]; then
  echo "examples: ERROR: $CLI is not built" >&2
  exit 99
fi

# ---- bookkeeping and cleanup
WORK=$(mktemp -d /tmp/libxmpp-ex.XXXXXX) || exit 99
SRV=""
BG=() # pids of background clients

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$SRV" ]; then
    "$SERVERS/prosody.sh" stop "$SRV" >/dev/null 2>&1 || echo "examples: could not stop $SRV" >&2
    rm -rf "$SRV"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

PASSED=0
FAILED=0
pass() {
  echo "ok: $*"
  PASSED=$((PASSED + 1))
}
failed() {
  echo "FAIL: $*"
  FAILED=$((FAILED + 1))
}

# show FILE...: the tail of logs, indented, after a failure
show() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "    --- ${f##*/}"
    tail -n 8 "$f" | sed 's/^/    /'
  done
}

# wait_line FILE REGEX PID: waits (at most WAIT_S) until FILE has a line
# matching REGEX; gives up early when PID has exited. Returns 0 if found.
wait_line() {
  local file=$1 re=$2 pid=$3 i
  for ((i = 0; i < WAIT_S * 20; i++)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -Eq -- "$re" "$file" 2>/dev/null
      return
    fi
    sleep 0.05
  done
  return 1
}

# ---- the server
SRV=$(mktemp -d /tmp/libxmpp-ex-srv.XXXXXX) || exit 99
chmod 755 "$SRV"
if ! "$SERVERS/prosody.sh" start "$SRV" >"$WORK/start.log" 2>&1; then
  cat "$WORK/start.log"
  SRV="" # start removed it
  echo "FAIL: prosody did not start"
  echo "examples: 0 passed, 1 failed"
  exit 1
fi
# shellcheck disable=SC1091
. "$SRV/env"
SERVER=$XMPP_HOST:$XMPP_PORT
export ALICE_PASSWORD

cli() {
  timeout -k 2 "$RUN_S" "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
    --server "$SERVER" --cafile "$XMPP_CAFILE" --timeout "$WAIT_S" "$@"
}

# run_example NAME N
run_example() {
  local name=$1 bin=$EXAMPLES/$1 body="ping $2 $1"
  local out=$WORK/$name.out err=$WORK/$name.err lout=$WORK/$name.listen.out
  local lerr=$WORK/$name.listen.err serr=$WORK/$name.send.err
  local bot lis rc
  if [ ! -x "$bin" ]; then
    echo "skip: $name (not built)"
    return
  fi

  # 1. the bot, as bob
  XMPP_JID=$BOB_JID XMPP_PASSWORD=$BOB_PASSWORD XMPP_SERVER=$SERVER \
    XMPP_CAFILE=$XMPP_CAFILE ECHO_BOT_MAX=1 \
    timeout -k 2 "$RUN_S" "$bin" >"$out" 2>"$err" &
  bot=$!
  BG+=("$bot")
  if wait_line "$out" "^ready as ${BOB_JID}/" "$bot"; then
    pass "$name: logs in ($(grep -m1 '^ready as' "$out"))"
  else
    failed "$name: no \"ready as $BOB_JID/...\" line within ${WAIT_S}s"
    show "$out" "$err"
    kill -TERM "$bot" 2>/dev/null
    wait "$bot" 2>/dev/null
    return
  fi

  # 2. alice listens (with presence, so that her bare JID reaches her)
  cli -v listen --count 1 >"$lout" 2>"$lerr" &
  lis=$!
  BG+=("$lis")
  if ! wait_line "$lerr" "logged in as ${ALICE_JID}/" "$lis"; then
    failed "$name: the alice listener did not log in"
    show "$lerr"
    kill -TERM "$bot" "$lis" 2>/dev/null
    wait "$bot" "$lis" 2>/dev/null
    return
  fi

  # 3. another alice session sends bob the ping
  if cli send "$BOB_JID" "$body" 2>"$serr"; then
    pass "$name: alice sent \"$body\""
  else
    failed "$name: xmpp-cli send failed (exit $?)"
    show "$serr"
  fi

  # 4. the echo reaches the listener, which then exits 0
  wait "$lis"
  rc=$?
  if [ "$rc" = 0 ] && grep -Fq "\"body\": \"$body\"" "$lout" &&
    grep -Fq "\"from\": \"$BOB_JID/" "$lout"; then
    pass "$name: the echo arrived ($(head -n 1 "$lout"))"
  else
    failed "$name: no echo of \"$body\" from $BOB_JID (listener exit $rc)"
    show "$lout" "$lerr" "$out" "$err"
  fi

  # 5. the bot ends cleanly after its one echo
  wait "$bot"
  rc=$?
  if [ "$rc" = 0 ] && grep -Fq "echoed to $ALICE_JID: $body" "$out"; then
    pass "$name: exits 0 after ECHO_BOT_MAX=1 echo"
  else
    failed "$name: exit $rc after the echo (expected 0)"
    show "$out" "$err"
  fi
}

i=1
for ex in echo-bot glib-client libuv-client sansio-client; do
  run_example "$ex" "$i"
  i=$((i + 1))
done

echo "examples: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]

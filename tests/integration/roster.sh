#!/bin/bash
# Integration test of the roster, presence, blocking and registration
# plugins: tests/integration/roster_client (roster get/set/push/remove,
# versioning where offered, subscriptions, resource tracking, spoofed
# pushes, XEP-0191, XEP-0077 password change and cancellation) and the
# xmpp-cli commands roster, block and unblock, against Prosody and
# ejabberd (each started once).
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=BUILD tests/integration/roster.sh
#
# Exit 0 when every check passed, 1 when one failed, 77 (skip) with
# XMPP_TESTS_QUICK, without root or without either server, 99 when the
# programs are not built. Network: 127.0.0.1 only. Every run is bounded
# by `timeout`; servers are stopped in an EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "roster.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLIENT=$top_builddir/tests/integration/roster_client
CLI=$top_builddir/examples/xmpp-cli
EXAMPLE=$top_builddir/examples/roster
SERVERS=$top_srcdir/tests/servers

skip() {
  echo "roster: SKIP: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users via setpriv)"
for t in /usr/bin/python3 setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
for p in "$CLIENT" "$CLI" "$EXAMPLE"; do
  [ -x "$p" ] || { echo "roster: ERROR: $p is not built" >&2; exit 99; }
done

DIRS=()
FAILS=0
RAN=0
cleanup() {
  local rc=$? d
  trap - EXIT INT TERM HUP
  for d in "${DIRS[@]}"; do
    "$SERVERS/$(cat "$d.kind" 2>/dev/null || echo prosody).sh" stop "$d" >/dev/null 2>&1
    rm -rf "$d" "$d.kind" "$d.log"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ok() { echo "ok: $SERVER: $*"; }
fail() { echo "FAIL: $SERVER: $*"; FAILS=$((FAILS + 1)); }

# start_server KIND: starts a server in the background (both start at once)
start_server() {
  local kind=$1 d
  command -v "$kind" >/dev/null 2>&1 || command -v "${kind}ctl" >/dev/null 2>&1 ||
    { echo "roster: $kind is not installed: not tested"; return; }
  d=$(mktemp -d /tmp/libxmpp-roster.XXXXXX) || exit 99
  chmod 755 "$d"
  echo "$kind" >"$d.kind"
  DIRS+=("$d")
  START_TIMEOUT=${START_TIMEOUT:-50} timeout -k 2 70 "$SERVERS/$kind.sh" start "$d" >"$d.log" 2>&1 &
  PIDS+=("$!")
}

run_server() {
  local d=$1 pid=$2 kind rc
  kind=$(cat "$d.kind")
  SERVER=$kind
  if ! wait "$pid"; then
    cat "$d.log" >&2
    fail "the server did not start"
    return
  fi
  RAN=$((RAN + 1))
  (
    # shellcheck disable=SC1091
    . "$d/env"
    timeout -k 2 50 "$CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" \
      "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD" \
      "$CAROL_JID" "$CAROL_PASSWORD" "$DAVE_JID" "$FRANK_JID" "$FRANK_PASSWORD"
  ) | sed "s/^\(ok\|FAIL\|info\): /\1: $kind: /"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { fail "roster_client exited with $rc"; tail -n 20 "$d/"*.log 2>/dev/null | tail -n 20 >&2; }

  # xmpp-cli: roster, block, unblock
  (
    . "$d/env"
    export XMPP_IT_PW=$ALICE_PASSWORD XMPP_CAFILE
    U=(--server "$XMPP_HOST:$XMPP_PORT" --cafile "$XMPP_CAFILE" --jid "$ALICE_JID"
       --password-env XMPP_IT_PW)
    cli() { timeout -k 2 20 "$CLI" "${U[@]}" "$@" >"$d/cli.out" 2>"$d/cli.err" </dev/null; }
    cli roster; rc=$?
    # groups are a set: either order
    want='{"jid": "dave@xmpp.test", "name": "Dave W", "subscription": "none", "ask": null, "groups": ['
    if [ "$rc" = 0 ] && { grep -qxF "$want\"Work\", \"Team\"]}" "$d/cli.out" ||
                          grep -qxF "$want\"Team\", \"Work\"]}" "$d/cli.out"; }; then
      echo "ok: xmpp-cli roster prints dave as one JSON object"
    else
      echo "FAIL: xmpp-cli roster (exit $rc): $(head -c 400 "$d/cli.out") $(head -c 300 "$d/cli.err")"
    fi
    cli block "$ERIN_JID"; rc=$?
    [ "$rc" = 0 ] && echo "ok: xmpp-cli block -> 0" || echo "FAIL: xmpp-cli block -> $rc: $(cat "$d/cli.err")"
    cli unblock "$ERIN_JID"; rc=$?
    [ "$rc" = 0 ] && echo "ok: xmpp-cli unblock -> 0" || echo "FAIL: xmpp-cli unblock -> $rc: $(cat "$d/cli.err")"
    cli block 'a@b@c'; rc=$?
    [ "$rc" = 2 ] && echo "ok: xmpp-cli block of a malformed JID -> 2" || echo "FAIL: xmpp-cli block a@b@c -> $rc"
    cli block; rc=$?
    [ "$rc" = 2 ] && echo "ok: xmpp-cli block without a JID -> 2" || echo "FAIL: xmpp-cli block (no JID) -> $rc"
    # examples/roster: lists the roster, then ends after ROSTER_SECONDS
    XMPP_JID=$ALICE_JID XMPP_PASSWORD=$ALICE_PASSWORD XMPP_SERVER=$XMPP_HOST:$XMPP_PORT \
      ROSTER_SECONDS=1 timeout -k 2 15 "$EXAMPLE" >"$d/ex.out" 2>&1; rc=$?
    if [ "$rc" = 0 ] && grep -Eq '^  dave@xmpp.test \[Dave W\] none (#Work #Team|#Team #Work)$' "$d/ex.out"; then
      echo "ok: examples/roster lists the roster"
    else
      echo "FAIL: examples/roster (exit $rc): $(head -c 400 "$d/ex.out")"
    fi
  ) | sed "s/^\(ok\|FAIL\): /\1: $kind: /" | tee "$d/cli.res"
  FAILS=$((FAILS + $(grep -c '^FAIL' "$d/cli.res")))
}

start=$(date +%s)
PIDS=()
start_server prosody
start_server ejabberd
for i in "${!PIDS[@]}"; do
  run_server "${DIRS[$i]}" "${PIDS[$i]}"
done
echo "roster: $(( $(date +%s) - start )) s"
[ "$RAN" -gt 0 ] || skip "neither prosody nor ejabberd is installed"
[ "$FAILS" = 0 ] || exit 1
exit 0

#!/bin/bash
# Integration test of the PubSub family (XEP-0060, 0163, 0223, 0049, 0084,
# 0402/0048): tests/integration/pubsub_client against the private Prosody
# and ejabberd of tests/servers/ (each started once, one after the other).
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=BUILD tests/integration/pubsub.sh
#
# Exit 0 when the client passed against every server that could start,
# 1 when it failed, 77 (skip) with XMPP_TESTS_QUICK, without root or
# without both servers, 99 when the client is not built. Network:
# 127.0.0.1 only. Bounded: each client run is under `timeout`; servers are
# stopped in an EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "pubsub.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLIENT=$top_builddir/tests/integration/pubsub_client
SERVERS=$top_srcdir/tests/servers

skip() {
  echo "pubsub: SKIP: $*"
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users via setpriv)"
for t in setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
if [ ! -x "$CLIENT" ]; then
  echo "pubsub: ERROR: $CLIENT is not built" >&2
  exit 99
fi

DIR=""
SERVER=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$DIR" ]; then
    "$SERVERS/$SERVER.sh" stop "$DIR" >/dev/null 2>&1 || echo "pubsub: could not stop $SERVER in $DIR" >&2
    rm -rf "$DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ran=0
failed=0
for SERVER in prosody ejabberd; do
  prog=$SERVER
  [ "$SERVER" = ejabberd ] && prog=ejabberdctl
  command -v "$prog" >/dev/null 2>&1 || {
    echo "pubsub: $SERVER is not installed: not tested against it"
    continue
  }
  DIR=$(mktemp -d "/tmp/libxmpp-pubsub-$SERVER.XXXXXX") || exit 99
  chmod 755 "$DIR"
  start=$(date +%s)
  if ! "$SERVERS/$SERVER.sh" start "$DIR" >"$DIR.start.log" 2>&1; then
    cat "$DIR.start.log" >&2
    rm -f "$DIR.start.log"
    echo "pubsub: FAIL: $SERVER did not start" >&2
    failed=1
    DIR=""
    continue
  fi
  rm -f "$DIR.start.log"
  (
    # shellcheck disable=SC1091
    . "$DIR/env"
    echo "pubsub: against $SERVER_NAME on 127.0.0.1:$XMPP_PORT"
    # ejabberd's mod_pubsub serves pubsub.DOMAIN; the Prosody of
    # tests/servers has PEP only (no pubsub component)
    PUBSUB_SERVICE=""
    [ "$SERVER_NAME" = ejabberd ] && PUBSUB_SERVICE="pubsub.$XMPP_DOMAIN"
    export PUBSUB_SERVICE
    timeout -k 2 60 "$CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" \
      "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD"
    rc=$?
    if [ "$rc" != 0 ]; then
      echo "pubsub: FAIL: the client failed against $SERVER_NAME (exit status $rc); server log:" >&2
      tail -n 30 "$SERVER_LOG" >&2
      exit 1
    fi
  ) || failed=1
  ran=$((ran + 1))
  "$SERVERS/$SERVER.sh" stop "$DIR" >/dev/null 2>&1 || echo "pubsub: could not stop $SERVER in $DIR" >&2
  rm -rf "$DIR"
  DIR=""
  echo "pubsub: $SERVER done in $(( $(date +%s) - start )) s"
done
[ "$ran" -gt 0 ] || skip "neither Prosody nor ejabberd is installed"
exit "$failed"

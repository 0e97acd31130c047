#!/bin/bash
# Integration test of the modern login: tests/integration/sasl2_client
# (SASL2 + Bind2 with inline SM and carbons, a FAST token, a token login,
# inline resumption after a cut connection, a refused token) against the
# private Prosody of tests/servers/prosody.sh.
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=BUILD tests/integration/sasl2.sh
#
# Exit 0 when the client passed, 1 when it failed, 77 (skip) without root,
# Prosody or working SASL2 modules, 99 when the client is not built.
# Network: 127.0.0.1 only (IP literals; nothing asks DNS). Bounded: the
# client runs under `timeout`; the server is stopped in an EXIT trap.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "sasl2.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLIENT=$top_builddir/tests/integration/sasl2_client
SERVERS=$top_srcdir/tests/servers

skip() {
  echo "sasl2: SKIP: $*"
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (Prosody runs as its own user via setpriv)"
command -v prosody >/dev/null 2>&1 || skip "prosody is not installed (apt-get install prosody prosody-modules lua-sec)"
for t in /usr/bin/python3 setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
if [ ! -x "$CLIENT" ]; then
  echo "sasl2: ERROR: $CLIENT is not built" >&2
  exit 99
fi

DIR=$(mktemp -d /tmp/libxmpp-sasl2.XXXXXX) || exit 99
chmod 755 "$DIR"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  "$SERVERS/prosody.sh" stop "$DIR" >/dev/null 2>&1 || echo "sasl2: could not stop the server in $DIR" >&2
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ! "$SERVERS/prosody.sh" start "$DIR" >"$DIR.start.log" 2>&1; then
  cat "$DIR.start.log" >&2
  rm -f "$DIR.start.log"
  echo "sasl2: ERROR: Prosody did not start" >&2
  exit 1
fi
rm -f "$DIR.start.log"
# shellcheck disable=SC1091
. "$DIR/env"
[ "${XMPP_SASL2:-0}" = 1 ] || skip "the installed prosody-modules do not give SASL2/Bind2/FAST (XMPP_SASL2=0)"

timeout -k 2 90 "$CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" \
  "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD"
rc=$?
if [ "$rc" != 0 ]; then
  echo "sasl2: the client failed (exit status $rc); server log:" >&2
  tail -n 30 "$SERVER_LOG" >&2
  exit 1
fi
exit 0

#!/bin/bash
# Integration test of service discovery and entity capabilities (XEP-0030,
# XEP-0115, XEP-0128): tests/integration/caps_client (alice with two
# resources and bob in one driver loop) against the private Prosody and
# ejabberd of tests/servers/, each started once.
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=BUILD tests/integration/caps.sh
#
# Exit 0 when the client passed on every server that could start, 1 when
# it failed, 77 (skip) without root or without both servers, 99 when the
# client is not built. Network: 127.0.0.1 only. Bounded: every client
# runs under `timeout`; each server is stopped in the EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "caps.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLIENT=$top_builddir/tests/integration/caps_client
SERVERS=$top_srcdir/tests/servers

skip() {
  echo "caps: SKIP: $*"
  exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users via setpriv)"
for t in /usr/bin/python3 setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
for p in "$CLIENT"; do
  if [ ! -x "$p" ]; then
    echo "caps: ERROR: $p is not built" >&2
    exit 99
  fi
done

DIRS=()
cleanup() {
  local rc=$? d
  trap - EXIT INT TERM HUP
  for d in "${DIRS[@]}"; do
    "$SERVERS/$(cat "$d.kind" 2>/dev/null || echo prosody).sh" stop "$d" >/dev/null 2>&1 ||
      echo "caps: could not stop the server in $d" >&2
    rm -rf "$d" "$d.kind"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

failed=0
ran=0
for kind in prosody ejabberd; do
  case $kind in
    prosody) command -v prosody >/dev/null 2>&1 || { echo "caps: $kind is not installed: not tested"; continue; } ;;
    ejabberd) command -v ejabberdctl >/dev/null 2>&1 || [ -x /usr/sbin/ejabberdctl ] || { echo "caps: $kind is not installed: not tested"; continue; } ;;
  esac
  DIR=$(mktemp -d /tmp/libxmpp-caps.XXXXXX) || exit 99
  chmod 755 "$DIR"
  echo "$kind" >"$DIR.kind"
  DIRS+=("$DIR")
  start=$(date +%s%N)
  if ! "$SERVERS/$kind.sh" start "$DIR" >"$DIR.start.log" 2>&1; then
    cat "$DIR.start.log" >&2
    rm -f "$DIR.start.log"
    echo "FAIL: $kind did not start"
    failed=1
    continue
  fi
  rm -f "$DIR.start.log"
  echo "info: $kind started in $((($(date +%s%N) - start) / 1000000)) ms"
  (
    # shellcheck disable=SC1091
    . "$DIR/env"
    # the upload service's max-file-size as configured by tests/servers:
    # Prosody http_file_share_size_limit = 10 MiB; ejabberd's default
    # mod_http_upload max_size (100 MiB)
    max=$((10 * 1024 * 1024))
    [ "$kind" = ejabberd ] && max=104857600
    echo "== $kind: caps_client"
    timeout -k 2 45 "$CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" \
      "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD" \
      "$XMPP_MUC_DOMAIN" "$XMPP_UPLOAD_DOMAIN" "$max" || {
      echo "FAIL: caps_client against $kind (exit status $?); server log:"
      tail -n 20 "$SERVER_LOG"
      exit 1
    }
    echo "ok: caps_client against $kind"
  ) || failed=1
  ran=$((ran + 1))
  "$SERVERS/$kind.sh" stop "$DIR" >/dev/null 2>&1
done
[ "$ran" -gt 0 ] || skip "neither Prosody nor ejabberd could be tested"
exit "$failed"

#!/bin/bash
# Integration test of archives and carbons (XEP-0313, XEP-0059, XEP-0280,
# XEP-0359, XEP-0203): tests/integration/mam_client against the private
# Prosody and ejabberd of tests/servers/, each started once, then
# tests/integration/mam_muc_client (a room's archive, XEP-0313 §6, on
# XMPP_MUC_DOMAIN), then `xmpp-cli history` (backward paging in small
# pages, oldest first).
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=BUILD tests/integration/mam.sh
# MAM_SERVERS="prosody ejabberd" (the default) picks the servers.
#
# Exit 0 when every check passed on every server present, 1 on a failure,
# 77 (skip) with XMPP_TESTS_QUICK, without root or without any server, 99
# when the programs are not built. Network: 127.0.0.1 only. Bounded: each
# program runs under `timeout`; the servers are stopped in an EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "mam.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLIENT=$top_builddir/tests/integration/mam_client
MUC_CLIENT=$top_builddir/tests/integration/mam_muc_client
CLI=$top_builddir/examples/xmpp-cli
SERVERS=$top_srcdir/tests/servers

skip() {
  echo "mam: SKIP: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users via setpriv)"
for t in /usr/bin/python3 setpriv certtool timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
for p in "$CLIENT" "$MUC_CLIENT" "$CLI"; do
  if [ ! -x "$p" ]; then
    echo "mam: ERROR: $p is not built" >&2
    exit 99
  fi
done

DIRS=()
cleanup() {
  local rc=$? d
  trap - EXIT INT TERM HUP
  for d in "${DIRS[@]}"; do
    "$SERVERS/${d%%:*}.sh" stop "${d#*:}" >/dev/null 2>&1 ||
      echo "mam: could not stop the server in ${d#*:}" >&2
    rm -rf "${d#*:}"
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fails=0
ran=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

for srv in ${MAM_SERVERS:-prosody ejabberd}; do
  case $srv in
  prosody) command -v prosody >/dev/null 2>&1 || { echo "mam: prosody is not installed: not tested"; continue; } ;;
  ejabberd) command -v ejabberdctl >/dev/null 2>&1 || [ -x /usr/sbin/ejabberdctl ] ||
    { echo "mam: ejabberd is not installed: not tested"; continue; } ;;
  *) echo "mam: unknown server $srv" >&2; exit 99 ;;
  esac
  DIR=$(mktemp -d /tmp/libxmpp-mam.XXXXXX) || exit 99
  chmod 755 "$DIR"
  DIRS+=("$srv:$DIR")
  if ! timeout -k 5 90 "$SERVERS/$srv.sh" start "$DIR" >"$DIR.start.log" 2>&1; then
    cat "$DIR.start.log" >&2
    rm -f "$DIR.start.log"
    fail "$srv did not start"
    continue
  fi
  rm -f "$DIR.start.log"
  ran=$((ran + 1))
  (
    # shellcheck disable=SC1091
    . "$DIR/env"
    echo "== $srv"
    t0=$SECONDS
    timeout -k 2 60 "$CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" \
      "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD"
    rc=$?
    echo "mam_client on $srv: exit $rc, $((SECONDS - t0)) s"
    [ "$rc" = 0 ] || { tail -n 20 "$SERVER_LOG" >&2; exit 1; }
    # the room archive: alice posts in a fresh room on the MUC service,
    # bob pages through the room's archive
    t0=$SECONDS
    timeout -k 2 60 "$MUC_CLIENT" "$XMPP_HOST" "$XMPP_PORT" "$XMPP_CAFILE" "$XMPP_MUC_DOMAIN" \
      "$ALICE_JID" "$ALICE_PASSWORD" "$BOB_JID" "$BOB_PASSWORD"
    rc=$?
    echo "mam_muc_client on $srv: exit $rc, $((SECONDS - t0)) s"
    [ "$rc" = 0 ] || { tail -n 20 "$SERVER_LOG" >&2; exit 1; }
    # the CLI: carol writes dave 7 lines; dave reads the newest 5 in
    # pages of 2, oldest first
    tag="h$$-$RANDOM"
    for i in 0 1 2 3 4 5 6; do echo "$tag n$i"; done |
      CAROL_PW=$CAROL_PASSWORD timeout -k 2 30 "$CLI" --jid "$CAROL_JID" --password-env CAROL_PW \
        --server "$XMPP_HOST:$XMPP_PORT" --cafile "$XMPP_CAFILE" --timeout 20 \
        send "$DAVE_JID" --stdin 2>/dev/null || { echo "FAIL: $srv: xmpp-cli send"; exit 1; }
    sleep 0.5
    out=$(DAVE_PW=$DAVE_PASSWORD timeout -k 2 30 "$CLI" --jid "$DAVE_JID" --password-env DAVE_PW \
      --server "$XMPP_HOST:$XMPP_PORT" --cafile "$XMPP_CAFILE" --timeout 20 -v \
      history "$CAROL_JID" --max 5 --page 2 2>"$DIR/history.err")
    rc=$?
    bodies=$(printf '%s\n' "$out" | sed -n 's/.*"body": "\([^"]*\)".*/\1/p' | tr '\n' ' ')
    pages=$(grep -c 'archive page of' "$DIR/history.err")
    if [ "$rc" = 0 ] && [ "$bodies" = "$tag n2 $tag n3 $tag n4 $tag n5 $tag n6 " ] && [ "$pages" = 3 ]; then
      echo "ok: $srv: xmpp-cli history --max 5 --page 2: the newest 5, oldest first, in 3 pages"
    else
      echo "FAIL: $srv: xmpp-cli history (exit $rc, $pages pages): $bodies"
      cat "$DIR/history.err" >&2
      exit 1
    fi
    if printf '%s\n' "$out" | head -n 1 | grep -q '"stamp": "20[0-9-]*T[0-9:]*Z", "archive_id": "[^"]'; then
      echo "ok: $srv: history lines carry stamp and archive_id"
    else
      echo "FAIL: $srv: history line: $(printf '%s\n' "$out" | head -n 1)"
      exit 1
    fi
  ) || fails=$((fails + 1))
done
[ "$ran" -gt 0 ] || skip "neither Prosody nor ejabberd could be tested"
[ "$fails" = 0 ] || exit 1
exit 0

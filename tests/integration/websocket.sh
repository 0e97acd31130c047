#!/bin/bash
# XMPP over WebSocket (RFC 7395) against both real servers: Prosody's
# mod_websocket (/xmpp-websocket) and ejabberd's ws listener (/ws), both
# plain ws:// on the harness's loopback HTTP port. Per server:
#   - bob listens and alice sends with `xmpp-cli --transport websocket`:
#     both log in over the WebSocket and the message arrives;
#   - the upgrade went through (101) and the stream was framed (the log
#     shows "websocket: upgraded");
#   - a wrong path is refused with a clear error (HTTP status), exit 6;
#   - ws:// without --allow-plaintext is a usage error (exit 2), and so is
#     an unknown --transport.
# wss:// against Prosody (started with PROSODY_HTTPS=1: an HTTPS port with
# the test certificate): login and send with the URL's host (the domain)
# as reference identity, and a URL naming 127.0.0.1 is refused as a
# certificate name mismatch (exit 4). ejabberd's harness has no TLS HTTP
# listener: ws:// only there.
# The servers are started once each, in parallel.
#
# Run by `make check`; skips (77) without root, with XMPP_TESTS_QUICK, or
# without either server (a missing one is reported and the other tested).
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "websocket.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
SERVERS=$top_srcdir/tests/servers
[ "$(id -u)" = 0 ] || { echo "websocket: SKIP: needs root"; exit 77; }
[ -x "$CLI" ] || { echo "websocket: ERROR: $CLI is not built" >&2; exit 99; }
have=()
if command -v prosody >/dev/null 2>&1 || [ -x /usr/bin/prosody ]; then have+=(prosody)
else echo "websocket: prosody is not installed: not tested"; fi
if [ -x /usr/sbin/ejabberdctl ]; then have+=(ejabberd)
else echo "websocket: ejabberd is not installed: not tested"; fi
[ "${#have[@]}" -gt 0 ] || { echo "websocket: SKIP: no server"; exit 77; }

WORK=$(mktemp -d /tmp/libxmpp-websocket.XXXXXX) || exit 99
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$? p srv
  trap - EXIT INT TERM HUP
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for srv in "${have[@]}"; do "$SERVERS/$srv.sh" stop "$WORK/$srv" >/dev/null 2>&1; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fails=0 passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# both servers come up at the same time
declare -A spid
for srv in "${have[@]}"; do
  PROSODY_HTTPS=1 timeout -k 5 60 "$SERVERS/$srv.sh" start "$WORK/$srv" >"$WORK/$srv-start.log" 2>&1 &
  spid[$srv]=$!
done
started=()
for srv in "${have[@]}"; do
  if wait "${spid[$srv]}"; then started+=("$srv")
  else bad "$srv did not start"; tail -20 "$WORK/$srv-start.log"; fi
done

run_server() {
  local srv=$1
  local w=$WORK/$srv-run brc arc rc
  mkdir -p "$w"
  (
    # shellcheck disable=SC1090,SC1091
    . "$WORK/$srv/env"
    export ALICE_PASSWORD BOB_PASSWORD
    local common=(--transport websocket --url "$XMPP_WEBSOCKET_URL" --allow-plaintext --timeout 15 -v)
    timeout -k 2 25 "$CLI" --jid "$BOB_JID" --password-env BOB_PASSWORD "${common[@]}" \
      listen --count 1 >"$w/bob.out" 2>"$w/bob.err" </dev/null &
    local bob=$!
    for ((i = 0; i < 200; i++)); do
      grep -q 'xmpp-cli: logged in as' "$w/bob.err" && break
      kill -0 "$bob" 2>/dev/null || break
      sleep 0.1
    done
    timeout -k 2 25 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" \
      send "$BOB_JID" "framed by $srv" >"$w/alice.out" 2>"$w/alice.err" </dev/null
    echo $? >"$w/alice.rc"
    wait "$bob"
    echo $? >"$w/bob.rc"
    # a wrong path: the server answers with an HTTP error, not 101
    timeout -k 2 20 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
      --transport websocket --url "ws://127.0.0.1:$XMPP_HTTP_PORT/no-such-endpoint" \
      --allow-plaintext --timeout 10 send "$BOB_JID" x >/dev/null 2>"$w/wrong.err" </dev/null
    echo $? >"$w/wrong.rc"
    if [ -n "${XMPP_WEBSOCKET_TLS_URL:-}" ]; then
      # wss: TLS under HTTP, the certificate checked against the URL's host
      timeout -k 2 20 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
        --transport websocket --url "$XMPP_WEBSOCKET_TLS_URL" --cafile "$XMPP_CAFILE" \
        --server "127.0.0.1:$XMPP_HTTPS_PORT" --timeout 10 -v \
        send "$BOB_JID" "over wss" >/dev/null 2>"$w/wss.err" </dev/null
      echo $? >"$w/wss.rc"
      timeout -k 2 20 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
        --transport websocket --url "wss://127.0.0.1:$XMPP_HTTPS_PORT/xmpp-websocket" \
        --cafile "$XMPP_CAFILE" --timeout 10 send "$BOB_JID" x >/dev/null 2>"$w/wssbad.err" </dev/null
      echo $? >"$w/wssbad.rc"
    fi
  )
  if [ -f "$w/wss.rc" ]; then
    rc=$(cat "$w/wss.rc")
    if [ "$rc" = 0 ] && grep -q 'websocket: upgraded' "$w/wss.err" &&
      grep -q 'xmpp-cli: logged in as' "$w/wss.err"; then
      ok "$srv: wss:// login and send, certificate verified for the URL's host"
    else
      bad "$srv: wss:// exit $rc"; grep -v '^\[debug\]' "$w/wss.err" | tail -5
    fi
    rc=$(cat "$w/wssbad.rc")
    if [ "$rc" = 4 ] && grep -q 'name-mismatch (reference identity 127.0.0.1)' "$w/wssbad.err"; then
      ok "$srv: wss:// to a host the certificate does not name is refused (exit 4)"
    else
      bad "$srv: wss:// wrong host: exit $rc"; tail -3 "$w/wssbad.err"
    fi
  fi
  arc=$(cat "$w/alice.rc"); brc=$(cat "$w/bob.rc"); rc=$(cat "$w/wrong.rc")
  if [ "$arc" = 0 ] && grep -q 'websocket: upgraded' "$w/alice.err" &&
    grep -q 'xmpp-cli: logged in as' "$w/alice.err"; then
    ok "$srv: alice logged in over ws:// and sent"
  else
    bad "$srv: sender exit $arc"; grep -v '^\[debug\]' "$w/alice.err" | tail -5
  fi
  if [ "$brc" = 0 ] && grep -q 'websocket: upgraded' "$w/bob.err" &&
    grep -q "\"body\": \"framed by $srv\"" "$w/bob.out"; then
    ok "$srv: bob listened over ws:// and got the message as JSON"
  else
    bad "$srv: listener exit $brc"; grep -v '^\[debug\]' "$w/bob.err" | tail -5; cat "$w/bob.out"
  fi
  if [ "$rc" = 6 ] && grep -q 'WebSocket upgrade refused: HTTP [45][0-9][0-9]' "$w/wrong.err"; then
    ok "$srv: a wrong WebSocket path is a clear error ($(grep -o 'HTTP [0-9]* [^"]*' "$w/wrong.err" | head -1))"
  else
    bad "$srv: wrong path: exit $rc"; tail -3 "$w/wrong.err"
  fi
}

# both servers at once; each run's lines are collected and counted after
for srv in "${started[@]}"; do
  run_server "$srv" >"$WORK/$srv.result" 2>&1 &
  PIDS+=($!)
done
wait "${PIDS[@]}" 2>/dev/null
PIDS=()
for srv in "${started[@]}"; do
  cat "$WORK/$srv.result"
  fails=$((fails + $(grep -c '^FAIL:' "$WORK/$srv.result")))
done

# usage errors need no server
timeout 5 "$CLI" --jid a@b --password-env HOME --transport websocket --url ws://127.0.0.1:1/x \
  send c@d x >/dev/null 2>"$WORK/u1.err"
rc=$?
if [ "$rc" = 2 ] && grep -q 'plaintext' "$WORK/u1.err"; then
  ok "ws:// without --allow-plaintext is refused (exit 2)"
else bad "ws:// without --allow-plaintext: exit $rc"; fi
timeout 5 "$CLI" --jid a@b --password-env HOME --transport carrier-pigeon send c@d x \
  >/dev/null 2>"$WORK/u2.err"
rc=$?
if [ "$rc" = 2 ] && grep -q -- '--transport takes tcp or websocket' "$WORK/u2.err"; then
  ok "an unknown --transport is a usage error (exit 2)"
else bad "unknown transport: exit $rc"; fi
timeout 5 "$CLI" --jid a@b --password-env HOME --transport websocket --url 'ws://u@h/' \
  --allow-plaintext send c@d x >/dev/null 2>"$WORK/u3.err"
rc=$?
if [ "$rc" = 2 ]; then ok "a URL with user information is refused (exit 2)"
else bad "URL with userinfo: exit $rc"; fi
[ "${#started[@]}" = "${#have[@]}" ] || fails=$((fails + 1))
echo "websocket: servers tested: ${started[*]:-none}"
[ "$fails" = 0 ]

#!/bin/bash
# XEP-0114 against real servers: examples/component connects as the
# external component echo.xmpp.test to a private Prosody (Component with
# component_secret) and a private ejabberd (ejabberd_service listener),
# both started with COMPONENT=1. Per server: the component becomes ready;
# `xmpp-cli disco echo.xmpp.test` gets the component's disco#info answer
# (the "disco" plugin in a component session); alice sends it a message
# with xmpp-cli and her `listen` receives the echo from echo.xmpp.test; a
# wrong secret is refused (not-authorized) and the component exits 1.
#
# Run by `make check`; skips (77) with XMPP_TESTS_QUICK, without root or
# the servers. Only 127.0.0.1; every wait bounded; EXIT trap cleanup.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "component.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
COMP=$top_builddir/examples/component
SERVERS=$top_srcdir/tests/servers
[ "$(id -u)" = 0 ] || { echo "component: SKIP: needs root"; exit 77; }
command -v prosody >/dev/null 2>&1 || { echo "component: SKIP: prosody is not installed"; exit 77; }
[ -x /usr/sbin/ejabberdctl ] || { echo "component: SKIP: ejabberd is not installed"; exit 77; }
[ -x "$CLI" ] && [ -x "$COMP" ] || { echo "component: ERROR: xmpp-cli or component not built" >&2; exit 99; }
T0=$SECONDS
WORK=$(mktemp -d /tmp/libxmpp-component.XXXXXX) || exit 99
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  "$SERVERS/prosody.sh" stop "$WORK/prosody" >/dev/null 2>&1
  "$SERVERS/ejabberd.sh" stop "$WORK/ejabberd" >/dev/null 2>&1
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

COMPONENT=1 "$SERVERS/prosody.sh" start "$WORK/prosody" >"$WORK/prosody.start" 2>&1 &
PS=$!
COMPONENT=1 "$SERVERS/ejabberd.sh" start "$WORK/ejabberd" >"$WORK/ejabberd.start" 2>&1 &
ES=$!
wait "$PS" || { echo "FAIL: prosody did not start"; tail -20 "$WORK/prosody.start"; exit 1; }
wait "$ES" || { echo "FAIL: ejabberd did not start"; tail -20 "$WORK/ejabberd.start"; exit 1; }

# checks SERVER: prints ok/FAIL lines (run for both servers in parallel)
checks() {
  local srv=$1 d=$WORK/$1 cpid lpid i rc text="echo me $1 $RANDOM"
  # shellcheck disable=SC1091
  . "$d/env"
  export ALICE_PASSWORD XMPP_COMPONENT_SECRET
  local common=(--jid "$ALICE_JID" --password-env ALICE_PASSWORD --server "127.0.0.1:$XMPP_PORT"
    --cafile "$XMPP_CAFILE" --timeout 20)
  timeout -k 2 30 "$COMP" "$XMPP_COMPONENT_DOMAIN" 127.0.0.1 "$XMPP_COMPONENT_PORT" 1 \
    >"$d/comp.out" 2>"$d/comp.err" </dev/null &
  cpid=$!
  for ((i = 0; i < 200; i++)); do
    grep -q '^ready as' "$d/comp.out" && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.05
  done
  if grep -q "^ready as $XMPP_COMPONENT_DOMAIN\$" "$d/comp.out"; then
    echo "ok: $srv: the component's handshake was accepted"
  else
    echo "FAIL: $srv: component not ready"; cat "$d/comp.err"
  fi
  timeout -k 2 25 "$CLI" "${common[@]}" disco "$XMPP_COMPONENT_DOMAIN" >"$d/disco.out" 2>"$d/disco.err" </dev/null
  rc=$?
  if [ "$rc" = 0 ] && grep -q 'feature: http://jabber.org/protocol/disco#info' "$d/disco.out"; then
    echo "ok: $srv: the component answered disco#info"
  else
    echo "FAIL: $srv: disco exit $rc"; cat "$d/disco.out" "$d/disco.err" | tail -5
  fi
  timeout -k 2 25 "$CLI" "${common[@]}" -v listen --count 1 >"$d/listen.out" 2>"$d/listen.err" </dev/null &
  lpid=$!
  for ((i = 0; i < 200; i++)); do
    grep -q 'xmpp-cli: logged in as' "$d/listen.err" && break
    sleep 0.05
  done
  timeout -k 2 25 "$CLI" "${common[@]}" send "$XMPP_COMPONENT_DOMAIN" "$text" >"$d/send.out" 2>"$d/send.err" </dev/null
  rc=$?
  wait "$lpid"
  if [ "$rc" = 0 ] && grep -q "\"from\": \"$XMPP_COMPONENT_DOMAIN\".*\"body\": \"$text\"" "$d/listen.out"; then
    echo "ok: $srv: the message came back from $XMPP_COMPONENT_DOMAIN"
  else
    echo "FAIL: $srv: no echo (send exit $rc)"; cat "$d/listen.out"; tail -3 "$d/comp.err"
  fi
  wait "$cpid"
  rc=$?
  if [ "$rc" = 0 ] && grep -q "^echoed to alice@" "$d/comp.out"; then
    echo "ok: $srv: the component echoed once and left cleanly"
  else
    echo "FAIL: $srv: component exit $rc"; cat "$d/comp.err"
  fi
  XMPP_COMPONENT_SECRET=wrong timeout -k 2 25 "$COMP" "$XMPP_COMPONENT_DOMAIN" 127.0.0.1 \
    "$XMPP_COMPONENT_PORT" 1 >"$d/bad.out" 2>"$d/bad.err" </dev/null
  rc=$?
  if [ "$rc" = 1 ] && ! grep -q '^ready' "$d/bad.out" && grep -qi 'not.authorized\|stream error' "$d/bad.err"; then
    echo "ok: $srv: a wrong secret is refused ($(head -1 "$d/bad.err"))"
  else
    echo "FAIL: $srv: wrong secret: exit $rc"; cat "$d/bad.out" "$d/bad.err"
  fi
}
checks prosody >"$WORK/res.prosody" 2>&1 &
PIDS+=($!)
checks ejabberd >"$WORK/res.ejabberd" 2>&1 &
PIDS+=($!)
wait "${PIDS[@]}"
cat "$WORK/res.prosody" "$WORK/res.ejabberd"
passes=$(cat "$WORK/res.prosody" "$WORK/res.ejabberd" | grep -c '^ok:')
fails=$(cat "$WORK/res.prosody" "$WORK/res.ejabberd" | grep -c '^FAIL:')
echo "component: $passes passed, $fails failed ($((SECONDS - T0)) s)"
[ "$fails" = 0 ] && [ "$passes" = 10 ]

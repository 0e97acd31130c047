#!/bin/bash
# XEP-0138 stream compression against a real server: a private ejabberd
# with zlib offered on its STARTTLS listener (EJABBERD_ZLIB=1). bob listens
# and alice sends, both with `xmpp-cli --compress`: both streams are
# compressed after TLS and authentication, and the message arrives; without
# --compress nothing is compressed. Prosody 0.12 offers no XEP-0138 (its
# mod_compression was removed), so only ejabberd is used.
#
# Run by `make check`; skips (77) without root or ejabberd. Only 127.0.0.1.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "compress.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
SERVERS=$top_srcdir/tests/servers
[ "$(id -u)" = 0 ] || { echo "compress: SKIP: needs root"; exit 77; }
[ -x /usr/sbin/ejabberdctl ] || { echo "compress: SKIP: ejabberd is not installed"; exit 77; }
[ -x "$CLI" ] || { echo "compress: ERROR: $CLI is not built" >&2; exit 99; }
echo "compress: Prosody 0.12 has no XEP-0138 support: tested against ejabberd only"

WORK=$(mktemp -d /tmp/libxmpp-compress.XXXXXX) || exit 99
chmod 755 "$WORK"
DIR=$WORK/ejabberd
BOBPID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  [ -n "$BOBPID" ] && kill -KILL "$BOBPID" 2>/dev/null
  "$SERVERS/ejabberd.sh" stop "$DIR" >/dev/null 2>&1
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

if ! EJABBERD_ZLIB=1 "$SERVERS/ejabberd.sh" start "$DIR" >"$WORK/server.log" 2>&1; then
  echo "FAIL: ejabberd did not start"; tail -20 "$WORK/server.log"; exit 1
fi
# shellcheck disable=SC1091
. "$DIR/env"
export ALICE_PASSWORD BOB_PASSWORD
common=(--server "127.0.0.1:$XMPP_PORT" --cafile "$XMPP_CAFILE" --timeout 20 -v)

timeout -k 2 25 "$CLI" --compress --jid "$BOB_JID" --password-env BOB_PASSWORD "${common[@]}" \
  listen --count 1 >"$WORK/bob.out" 2>"$WORK/bob.err" </dev/null &
BOBPID=$!
for ((i = 0; i < 200; i++)); do
  grep -q 'xmpp-cli: logged in as' "$WORK/bob.err" && break
  sleep 0.1
done
timeout -k 2 25 "$CLI" --compress --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" \
  send "$BOB_JID" "squeezed through zlib" >"$WORK/alice.out" 2>"$WORK/alice.err" </dev/null
arc=$?
wait "$BOBPID"
brc=$?
BOBPID=
if [ "$arc" = 0 ] && grep -q 'stream compression (zlib) on' "$WORK/alice.err"; then
  ok "the sender's stream was compressed and the server took the message"
else
  bad "sender exit $arc"; grep -v '^\[debug\]' "$WORK/alice.err" | tail -5
fi
if [ "$brc" = 0 ] && grep -q 'stream compression (zlib) on' "$WORK/bob.err" &&
  grep -q '"body": "squeezed through zlib"' "$WORK/bob.out"; then
  ok "the receiver's stream was compressed and the message arrived"
else
  bad "receiver exit $brc"; grep -v '^\[debug\]' "$WORK/bob.err" | tail -5; cat "$WORK/bob.out"
fi
# off by default: offered, not taken
timeout -k 2 25 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" \
  send "$BOB_JID" "plain" >"$WORK/plain.out" 2>"$WORK/plain.err" </dev/null
prc=$?
if [ "$prc" = 0 ] && ! grep -q 'stream compression (zlib) on' "$WORK/plain.err" &&
  grep -q 'jabber.org/features/compress' "$WORK/plain.err"; then
  ok "without --compress the offered compression is not taken"
else
  bad "default run: exit $prc, or compression used"
fi
echo "compress: $((3 - fails)) passed, $fails failed"
[ "$fails" = 0 ]

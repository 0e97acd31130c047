#!/bin/bash
# The README's demo command: installs dependencies, builds, starts a private
# Prosody on loopback (temporary directory, generated certificates, free
# ports), and shows two libxmpp clients logging in with verified TLS and
# exchanging messages; then stops the server.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$top/build}
export BUILD_DIR
sh "$top/scripts/install-deps.sh"
sh "$top/scripts/build.sh"
cli="$BUILD_DIR/examples/xmpp-cli"

echo "== offline examples"
"$BUILD_DIR/examples/stanza-demo"
"$BUILD_DIR/examples/jid-demo" 'Juliet@Example.COM/balcony' 'a@b@c'

dir=$(mktemp -d /tmp/libxmpp-demo.XXXXXX)
chmod 755 "$dir"
cleanup() {
  [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null || true
  bash "$top/tests/servers/prosody.sh" stop "$dir/prosody" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
echo "== starting a private Prosody"
bash "$top/tests/servers/prosody.sh" start "$dir/prosody"
# shellcheck disable=SC1091
. "$dir/prosody/env"
common=(--server "$XMPP_HOST:$XMPP_PORT" --cafile "$XMPP_CAFILE" --timeout 20)

echo "== bob listens (STARTTLS, certificate verified against the test CA)"
"$cli" --jid "$BOB_JID/demo" --password-env BOB_PASSWORD "${common[@]}" -v listen --count 2 \
  >"$dir/bob.out" 2>"$dir/bob.err" &
listener=$!
for _ in $(seq 1 100); do
  grep -q "logged in as" "$dir/bob.err" 2>/dev/null && break
  sleep 0.1
done
grep "logged in as" "$dir/bob.err"

echo "== alice sends two messages (one over direct TLS)"
"$cli" --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" \
  send "$BOB_JID" "Hello Bob, this is libxmpp $(basename "$cli")"
"$cli" --jid "$ALICE_JID" --password-env ALICE_PASSWORD --tls direct \
  --server "$XMPP_HOST:$XMPP_TLS_PORT" --cafile "$XMPP_CAFILE" --timeout 20 \
  send "$BOB_JID" 'Second message: "quotes", ünïcödé and <markup> survive'
wait "$listener"
listener=
echo "== what bob received (one JSON object per message)"
cat "$dir/bob.out"

echo "== alice asks the server who it is, and pings it"
"$cli" --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" version "$XMPP_DOMAIN"
"$cli" --jid "$ALICE_JID" --password-env ALICE_PASSWORD "${common[@]}" ping
echo "== demo finished"

#!/bin/bash
# XEP-0363 HTTP File Upload against the real servers' upload services:
# Prosody 0.12 mod_http_file_share and ejabberd mod_http_upload, each
# started once (upload.xmpp.test). For each: `xmpp-cli upload` discovers
# the service, gets a slot and PUTs a random file through libcurl on the
# client's loop; the GET URL it prints is downloaded with curl and compared
# byte for byte. Both test servers serve uploads over plain HTTP on
# loopback (ejabberd on 127.0.0.1, Prosody's component on localhost), so
# http:// is allowed explicitly (--allow-http); without it
# the slot is refused as not https (exit 1). A file over the service's
# announced max-file-size is refused before any HTTP (exit 1).
# XEP-0357 push on the same servers (Prosody with mod_cloud_notify through
# PROSODY_PUSH=1, ejabberd mod_push): push_client enables and disables push
# for an app server and checks each IQ result.
#
# Run by `make check`; skips (77) with XMPP_TESTS_QUICK, without root, or
# without either server (a missing server is reported and the other tested).
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "upload.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
PUSH=$top_builddir/tests/integration/push_client
SERVERS=$top_srcdir/tests/servers
[ "$(id -u)" = 0 ] || { echo "upload: SKIP: needs root"; exit 77; }
[ -x "$CLI" ] && [ -x "$PUSH" ] || { echo "upload: ERROR: $CLI or $PUSH is not built" >&2; exit 99; }
command -v curl >/dev/null || { echo "upload: SKIP: curl is not installed"; exit 77; }
if ! grep -q '^#define HAVE_LIBCURL 1' "$top_builddir/config.h" 2>/dev/null; then
  echo "upload: SKIP: built without libcurl (configure --with-libcurl)"
  exit 77
fi

WORK=$(mktemp -d /tmp/libxmpp-upload.XXXXXX) || exit 99
chmod 755 "$WORK"
STARTED=()
cleanup() {
  local rc=$? s
  trap - EXIT INT TERM HUP
  wait 2>/dev/null # a server still starting (bounded by its timeout)
  for s in "${STARTED[@]}"; do
    [ -n "$s" ] && "$SERVERS/$s.sh" stop "$WORK/$s" >/dev/null 2>&1
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# a random file of $2 bytes
mkfile() { head -c "$2" /dev/urandom >"$1"; }

installed() {
  case $1 in
    prosody) command -v prosody >/dev/null ;;
    ejabberd) [ -x /usr/sbin/ejabberdctl ] ;;
  esac
}

# Both servers start at once (in the background), each exactly once.
# Prosody answers HTTP requests for 127.0.0.1 from the VirtualHost: its
# upload component gets its own loopback name (tests/servers/README.md).
start_server() {
  START_TIMEOUT=${START_TIMEOUT:-50} PROSODY_PUSH=1 PROSODY_UPLOAD_HOST=localhost timeout -k 5 70 \
    "$SERVERS/$1.sh" start "$WORK/$1" >"$WORK/$1-server.log" 2>&1
  echo $? >"$WORK/$1-started"
}

run_server() {
  local srv=$1 dir=$WORK/$1 url rc
  if ! installed "$srv"; then
    echo "upload: $srv is not installed: not tested"
    return 2
  fi
  wait "${SPID[$srv]}"
  if [ "$(cat "$WORK/$srv-started" 2>/dev/null)" != 0 ]; then
    bad "$srv did not start"; tail -20 "$WORK/$srv-server.log"; return 1
  fi
  # shellcheck disable=SC1090
  . "$dir/env"
  export ALICE_PASSWORD
  local common=(--jid "$ALICE_JID" --password-env ALICE_PASSWORD
    --server "127.0.0.1:$XMPP_PORT" --cafile "$XMPP_CAFILE" --timeout 20)

  # 1. a 300 KiB file: upload, download, compare
  mkfile "$WORK/$srv.bin" 307200
  timeout -k 2 25 "$CLI" "${common[@]}" upload --allow-http --type application/octet-stream \
    "$WORK/$srv.bin" >"$WORK/$srv.out" 2>"$WORK/$srv.err" </dev/null
  rc=$?
  url=$(head -n1 "$WORK/$srv.out")
  if [ "$rc" = 0 ] && [ "$(wc -l <"$WORK/$srv.out")" = 1 ] && [ -n "$url" ]; then
    ok "$srv: upload printed one GET URL ($url)"
  else
    bad "$srv: upload exit $rc"; tail -5 "$WORK/$srv.err"; cat "$WORK/$srv.out"
  fi
  if [ -n "$url" ] && timeout -k 2 20 curl -sSf -o "$WORK/$srv.got" "$url" 2>"$WORK/$srv.curl" &&
    cmp -s "$WORK/$srv.bin" "$WORK/$srv.got"; then
    ok "$srv: the file downloaded from the GET URL is byte-identical (307200 bytes)"
  else
    bad "$srv: download from '$url' failed or differs"; cat "$WORK/$srv.curl" 2>/dev/null
  fi
  # progress goes to stderr only on a terminal: nothing here
  if ! grep -q 'uploaded' "$WORK/$srv.err"; then
    ok "$srv: no progress output when stderr is not a terminal"
  else
    bad "$srv: progress printed to a non-terminal"
  fi

  # 1b. on a terminal (script(1) gives it one), progress goes to stderr
  if command -v script >/dev/null; then
    # shellcheck disable=SC2016
    timeout -k 2 25 script -qec "$(printf '%q ' "$CLI" "${common[@]}" upload --allow-http "$WORK/$srv.bin")" \
      /dev/null >"$WORK/$srv.tty" 2>&1 </dev/null
    if grep -q 'uploaded 307200 of 307200 bytes (100%)' "$WORK/$srv.tty"; then
      ok "$srv: progress on stderr when it is a terminal"
    else
      bad "$srv: no progress on a terminal"; tail -c 600 "$WORK/$srv.tty"
    fi
  fi

  # 2. the same service without --allow-http: the http:// slot is refused
  mkfile "$WORK/$srv.small" 100
  timeout -k 2 25 "$CLI" "${common[@]}" upload "$WORK/$srv.small" \
    >"$WORK/$srv.nohttp.out" 2>"$WORK/$srv.nohttp.err" </dev/null
  rc=$?
  if [ "$rc" = 1 ] && [ ! -s "$WORK/$srv.nohttp.out" ] &&
    grep -q 'unusable slot' "$WORK/$srv.nohttp.err"; then
    ok "$srv: a plain-http slot is refused unless allowed (exit 1)"
  else
    bad "$srv: http slot without --allow-http: exit $rc"; cat "$WORK/$srv.nohttp.err"
  fi

  # 3. over the announced max-file-size (Prosody: 10 MiB as configured;
  # ejabberd: its default 100 MiB): refused before any HTTP transfer
  local limit=$((10 * 1024 * 1024))
  [ "$srv" = ejabberd ] && limit=104857600
  truncate -s $((limit + 1)) "$WORK/$srv.big"
  timeout -k 2 25 "$CLI" "${common[@]}" upload --allow-http "$WORK/$srv.big" \
    >"$WORK/$srv.big.out" 2>"$WORK/$srv.big.err" </dev/null
  rc=$?
  if [ "$rc" = 1 ] && grep -q 'file too large' "$WORK/$srv.big.err"; then
    ok "$srv: a file over max-file-size is refused (exit 1)"
  else
    bad "$srv: oversized file: exit $rc"; cat "$WORK/$srv.big.err"
  fi
  rm -f "$WORK/$srv.big"

  # 4. XEP-0357 push: enable and disable, each answered with a result
  if timeout -k 2 40 "$PUSH" 127.0.0.1 "$XMPP_PORT" "$XMPP_CAFILE" "$ALICE_JID" "$ALICE_PASSWORD" \
    >"$WORK/$srv.push" 2>&1; then
    ok "$srv: push enable/disable ($(grep -c '^ok:' "$WORK/$srv.push") steps)"
  else
    bad "$srv: push"; cat "$WORK/$srv.push"
  fi

  # 5. the server is gone: a network failure is exit 3
  cp "$XMPP_CAFILE" "$WORK/$srv-ca.pem"
  common[7]=$WORK/$srv-ca.pem
  "$SERVERS/$srv.sh" stop "$dir" >/dev/null 2>&1
  STARTED=("${STARTED[@]/$srv}")
  timeout -k 2 25 "$CLI" "${common[@]}" --no-reconnect upload --allow-http "$WORK/$srv.small" \
    >/dev/null 2>"$WORK/$srv.down.err" </dev/null
  rc=$?
  if [ "$rc" = 3 ]; then
    ok "$srv: no server: exit 3"
  else
    bad "$srv: no server: exit $rc"; cat "$WORK/$srv.down.err"
  fi
}

declare -A SPID
for s in prosody ejabberd; do
  if installed "$s"; then
    STARTED+=("$s")
    start_server "$s" &
    SPID[$s]=$!
  fi
done
tested=0
for s in prosody ejabberd; do
  run_server "$s"
  [ $? = 2 ] || tested=$((tested + 1))
done
[ "$tested" = 0 ] && { echo "upload: SKIP: neither server is installed"; exit 77; }
echo "upload: $passes passed, $fails failed"
[ "$fails" = 0 ]

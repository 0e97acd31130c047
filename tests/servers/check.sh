#!/bin/bash
# tests/servers/check.sh [prosody] [ejabberd] [badcert]
#
# Self-test of the server harness: for each server, start it in a temporary
# directory, print the stream features it offers (before and after TLS, with
# TLS 1.3 and with TLS 1.2), log in as alice with slixmpp over STARTTLS and
# over direct TLS verifying the certificate against XMPP_CAFILE, send bob a
# message, stop it and check that nothing is left running. Then start Prosody
# with each bad certificate and check that slixmpp refuses it. Prints timings.
# With no arguments, runs all three parts. CHECK_BAD_CERTS overrides the list
# of bad certificates tried.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PY=/usr/bin/python3
CLIENT="$HERE/xmpp_check.py"
BAD_CERTS=${CHECK_BAD_CERTS:-wrongname expired notyet selfsigned unknownca leafsigned v1intermediate}
PARTS=${*:-prosody ejabberd badcert}

passed=0
failed=0
DIRS=()

now_ms() { date +%s%3N; }
# alive PID: running (a zombie waiting for init to reap it is not)
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

cleanup() {
  local d
  for d in "${DIRS[@]}"; do
    [ -d "$d" ] || continue
    if [ -f "$d/env" ]; then
      "$HERE/$(. "$d/env" && echo "$SERVER_NAME").sh" stop "$d" || true
    fi
    rm -rf "$d"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# leftover DIR USER: pids of USER's processes whose command line mentions DIR
leftover() {
  (NAME=check SERVERS_DIR=$HERE; . "$HERE/lib.sh"; pids_in_dir "$2" "$1" | tr '\n' ' ')
}

# start_server NAME DIR [ENV...]: start, print timing; returns status
start_server() {
  local name=$1 dir=$2 t0 t1
  shift 2
  t0=$(now_ms)
  if ! env "$@" "$HERE/$name.sh" start "$dir"; then
    bad "$name start ($*)"
    return 1
  fi
  t1=$(now_ms)
  echo "  $name started in $((t1 - t0)) ms${*:+ ($*)}"
  return 0
}

stop_server() {
  local name=$1 dir=$2 user=$3 pid t0 t1 left
  pid=$(. "$dir/env" && echo "$SERVER_PID")
  t0=$(now_ms)
  "$HERE/$name.sh" stop "$dir"
  t1=$(now_ms)
  left=$(leftover "$dir" "$user")
  if alive "$pid" || [ -n "$left" ] || [ -e "$dir" ]; then
    bad "$name stop: still there (pid $pid, leftover: $left, dir exists: $([ -e "$dir" ] && echo yes || echo no))"
  else
    ok "$name stopped in $((t1 - t0)) ms, no process left, directory removed"
  fi
}

check_server() {
  local name=$1 user=$2 dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/xmpp-$name.XXXXXX")
  DIRS+=("$dir")
  echo "== $name"
  start_server "$name" "$dir" || return
  ok "$name start"
  (
    . "$dir/env"
    echo "  ports: starttls $XMPP_PORT, direct TLS $XMPP_TLS_PORT, http $XMPP_HTTP_PORT; pid $SERVER_PID"
    echo "  features offered to from='$ALICE_JID', TLS 1.3:"
    "$PY" "$CLIENT" features || exit 1
    echo "  features, TLS 1.2:"
    "$PY" "$CLIENT" features --tls12 || exit 1
  ) && ok "$name features probe" || bad "$name features probe"
  (
    . "$dir/env"
    "$PY" "$CLIENT" login
  ) && ok "$name login (STARTTLS, direct TLS) and message alice -> bob" ||
    bad "$name login / message"
  stop_server "$name" "$dir" "$user"
}

check_badcerts() {
  local b dir
  echo "== prosody with bad certificates (slixmpp, verification on)"
  for b in $BAD_CERTS; do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/xmpp-bad-$b.XXXXXX")
    DIRS+=("$dir")
    start_server prosody "$dir" BAD_CERT="$b" || continue
    (
      . "$dir/env"
      "$PY" "$CLIENT" badcert
    ) && ok "BAD_CERT=$b rejected" || bad "BAD_CERT=$b accepted"
    "$HERE/prosody.sh" stop "$dir"
  done
}

[ -x "$PY" ] || { echo "check.sh: $PY missing" >&2; exit 1; }
for part in $PARTS; do
  case $part in
    prosody) check_server prosody prosody ;;
    ejabberd) check_server ejabberd ejabberd ;;
    badcert) check_badcerts ;;
    *) echo "check.sh: unknown part $part" >&2; exit 2 ;;
  esac
done
echo "check.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/bin/bash
# No-loss test (issue 4): against a private Prosody and a private ejabberd,
# alice sends NOLOSS_COUNT (default 10000) messages to bob with
# `xmpp-cli send bob --stdin` while the fault proxy (faultproxy.py) resets,
# stalls, half-closes and cuts (mid TLS record) both clients' connections at
# random moments (seeded; NOLOSS_SEED to replay a run). With stream management and reconnection:
#   - the sender exits 0, which it does only once the server acknowledged
#     every line (an acked callback for each);
#   - bob's `xmpp-cli listen` prints every message exactly once (it
#     de-duplicates by sender and id), and nothing else.
# The test fails on any loss or duplicate, and prints the number of faults
# injected, reconnections and resumptions.
#
# Run by `make check` (top_srcdir/top_builddir in the environment). Skips
# (77) without root, the servers or Debian's Python. Only 127.0.0.1.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "noloss.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
FP=$top_srcdir/tests/faults/faultproxy.py
SERVERS=$top_srcdir/tests/servers
PY=/usr/bin/python3
COUNT=${NOLOSS_COUNT:-10000}
RATE=${NOLOSS_RATE:-0.5}     # faults per second
PACE=${NOLOSS_PACE:-500}     # messages per second offered to the sender
SEED=${NOLOSS_SEED:-$RANDOM}
LIMIT=${NOLOSS_TIMEOUT:-300} # seconds per server

skip() { echo "noloss: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users)"
[ -x "$PY" ] || skip "$PY is missing"
command -v prosody >/dev/null 2>&1 || skip "prosody is not installed"
[ -x /usr/sbin/ejabberdctl ] || skip "ejabberd is not installed"
[ -x "$CLI" ] || { echo "noloss: ERROR: $CLI is not built" >&2; exit 99; }

WORK=$(mktemp -d /tmp/libxmpp-noloss.XXXXXX) || exit 99
chmod 755 "$WORK" # the servers run as their own users
PIDS=()
DIRS=()
cleanup() {
  local rc=$? p d
  trap - EXIT INT TERM HUP
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for d in "${DIRS[@]}"; do
    "$SERVERS/${d%%:*}.sh" stop "${d#*:}" >/dev/null 2>&1
    rm -rf "${d#*:}"
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_one KIND: the whole scenario against one server; prints ok/FAIL lines
# and a summary; returns 0 when every check passed.
run_one() {
  local kind=$1 dir=$WORK/$1 t=$WORK/$1.run fails=0 fp port i
  mkdir -p "$t"
  # ejabberd archives every message in Mnesia by default (25 messages/s
  # on a loaded machine): archiving is not what this test is about
  if ! EJABBERD_MAM_DEFAULT=never "$SERVERS/$kind.sh" start "$dir" >"$t/server.log" 2>&1; then
    echo "FAIL: $kind: the server did not start"; tail -20 "$t/server.log"; return 1
  fi
  # shellcheck disable=SC1090,SC1091
  . "$dir/env"
  "$PY" "$FP" --listen 127.0.0.1:0 --target "127.0.0.1:$XMPP_PORT" --control 127.0.0.1:0 \
    --port-file "$t/fp.ports" --log "$t/fp.log" >"$t/fp.out" 2>&1 &
  fp=$!
  echo "$fp" >"$t/fp.pid"
  fpcmd() { "$PY" "$FP" --cmd "$t/fp.ports" "$@"; }
  fpcmd ping >/dev/null || { echo "FAIL: $kind: the fault proxy did not start"; return 1; }
  port=$(sed -n 's/^listen=//p' "$t/fp.ports")
  export ALICE_PASSWORD BOB_PASSWORD
  common=(--server "127.0.0.1:$port" --cafile "$XMPP_CAFILE" --keepalive 2 -v)

  # bob listens (through the proxy) until he has every message
  timeout -k 5 "$LIMIT" "$CLI" --jid "$BOB_JID" --password-env BOB_PASSWORD "${common[@]}" \
    listen --count "$COUNT" >"$t/bob.out" 2>"$t/bob.err" </dev/null &
  local bob=$!
  for ((i = 0; i < 300; i++)); do
    grep -q 'xmpp-cli: logged in as' "$t/bob.err" && break
    sleep 0.1
  done
  grep -q 'xmpp-cli: logged in as' "$t/bob.err" || {
    echo "FAIL: $kind: bob did not log in"; tail -5 "$t/bob.err"; return 1
  }
  # faults from now on, both connections, at random moments
  # Network faults: resets, black holes, a FIN towards the client, TLS
  # records cut in two. Not a FIN towards the server: to a server that is
  # the client closing its stream, and it ends the session instead of
  # keeping it for resumption (XEP-0198 lets it); what it then does with
  # the unacknowledged stanzas (offline storage, bounce) is the server's
  # policy, and getting them back is message archive catch-up, not
  # stream management.
  fpcmd random "$RATE" "$SEED" reset,stall,halfclose-client,cut-tls >/dev/null ||
    { echo "FAIL: $kind: proxy random mode"; return 1; }
  local t0=$SECONDS
  # paced, so that faults land all along the run (and so that a receiver
  # away for a few seconds does not exceed ejabberd's 5000-stanza queue)
  "$PY" -c '
import sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
t0 = time.monotonic()
for i in range(1, n + 1):
    sys.stdout.write("noloss-%d\n" % i)
    if i % 50 == 0:
        sys.stdout.flush()
        ahead = t0 + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
sys.stdout.flush()
' "$COUNT" "$PACE" |
    timeout -k 5 "$LIMIT" "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
      "${common[@]}" send "$BOB_JID" --stdin >"$t/alice.out" 2>"$t/alice.err"
  local arc=$?
  wait "$bob"
  local brc=$?
  local secs=$((SECONDS - t0))
  fpcmd random off >/dev/null
  local stats
  stats=$(fpcmd stats)

  if [ "$arc" = 0 ] && grep -q "$COUNT line(s) sent, $COUNT acknowledged" "$t/alice.err"; then
    echo "ok: $kind: the sender got an acknowledgement for each of $COUNT messages"
  else
    echo "FAIL: $kind: sender exit $arc, not every line acknowledged"
    grep -v '^\[' "$t/alice.err" | tail -8
    fails=$((fails + 1))
  fi
  local lines uniq missing extra
  lines=$(wc -l <"$t/bob.out")
  "$PY" - "$t/bob.out" "$COUNT" >"$t/check.txt" <<'EOF'
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
bodies = []
bad = 0
for line in open(path, encoding="utf-8"):
    try:
        bodies.append(json.loads(line)["body"])
    except Exception:
        bad += 1
want = {"noloss-%d" % i for i in range(1, count + 1)}
seen = set(bodies)
print(len(seen), len(want - seen), len(bodies) - len(seen) + bad + len(seen - want))
EOF
  read -r uniq missing extra <"$t/check.txt"
  if [ "$brc" = 0 ] && [ "$lines" = "$COUNT" ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
    echo "ok: $kind: the receiver printed each of $COUNT messages exactly once"
  else
    echo "FAIL: $kind: receiver exit $brc, $lines lines, $uniq distinct, $missing missing, $extra duplicate or unexpected"
    grep -v '^\[' "$t/bob.err" | tail -8
    fails=$((fails + 1))
  fi
  local faults rec_a rec_b res_a res_b
  faults=$(echo "$stats" | tr ' ' '\n' | sed -n 's/^faults=//p')
  read -r rec_a res_a < <(sed -n 's/^xmpp-cli: \([0-9]*\) reconnect(s), \([0-9]*\) stream(s) resumed$/\1 \2/p' "$t/alice.err" | tail -1)
  read -r rec_b res_b < <(sed -n 's/^xmpp-cli: \([0-9]*\) reconnect(s), \([0-9]*\) stream(s) resumed$/\1 \2/p' "$t/bob.err" | tail -1)
  echo "noloss: $kind: $COUNT messages in ${secs}s, seed $SEED: ${faults:-?} faults injected" \
    "($(echo "$stats" | tr ' ' '\n' | grep -E '^(reset|stall|halfclose|cut_tls)=' | tr '\n' ' '));" \
    "sender ${rec_a:-0} reconnects / ${res_a:-0} resumed, receiver ${rec_b:-0} reconnects / ${res_b:-0} resumed"
  if [ "${faults:-0}" = 0 ]; then
    echo "FAIL: $kind: no fault was injected: the test proved nothing"
    fails=$((fails + 1))
  fi
  kill -TERM "$fp" 2>/dev/null
  wait "$fp" 2>/dev/null
  if [ "$fails" != 0 ]; then
    echo "---- $kind proxy log (tail)"; tail -15 "$t/fp.log"
    rm -rf "/tmp/noloss-$kind-failed"
    cp -r "$t" "/tmp/noloss-$kind-failed" 2>/dev/null
  fi
  return "$fails"
}

DIRS+=("prosody:$WORK/prosody" "ejabberd:$WORK/ejabberd")
status=0
# one server after the other: two cores, and deterministic enough to read
for kind in ${NOLOSS_SERVERS:-prosody ejabberd}; do
  run_one "$kind" || status=1
done
exit $status

#!/bin/bash
# Integration test: examples/xmpp-cli against private Prosody and ejabberd
# instances (tests/servers/), plus tiny fake servers for the failure paths
# that a real server cannot produce (silent peer, no STARTTLS offered).
#
# Run by `make check` with top_srcdir and top_builddir in the environment;
# by hand: top_srcdir=. top_builddir=/tmp/build-main tests/integration/run.sh
#
# Prints "ok: ..." or "FAIL: ..." per check and a summary line. Exit 0 if
# every check passed, 1 otherwise, 77 (skip) without the servers or root,
# 99 if the CLI is not built.
#
# Network: only 127.0.0.1. Every xmpp-cli run gets --server 127.0.0.1:PORT,
# so the client never asks DNS (the JIDs' domain xmpp.test does not resolve).
# Bounded: every run of the client is under `timeout`, every wait has a
# deadline; servers and helpers are stopped in an EXIT trap.
set -u
# XMPP_TESTS_QUICK (the valgrind and distcheck passes of .ci/run): the
# real-server tests already ran in the main pass
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "run.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# absolute (automake may pass relative directories)
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
SERVERS=$top_srcdir/tests/servers
PY=/usr/bin/python3
T0=${EPOCHREALTIME/./}

skip() {
  echo "integration: SKIP: $*"
  exit 77
}

# ---- prerequisites
[ "$(id -u)" = 0 ] || skip "needs root (the servers run as their own users via setpriv)"
command -v prosody >/dev/null 2>&1 || skip "prosody is not installed (apt-get install prosody prosody-modules lua-sec)"
[ -x /usr/sbin/ejabberdctl ] && [ -x /usr/bin/erl ] || skip "ejabberd is not installed (apt-get install ejabberd)"
for t in "$PY" setpriv certtool openssl timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing (see tests/servers/README.md)"
done
if [ ! -x "$CLI" ]; then
  echo "integration: ERROR: $CLI is not built" >&2
  exit 99
fi

# ---- bookkeeping and cleanup
WORK=$(mktemp -d /tmp/libxmpp-it.XXXXXX) || exit 99
declare -A KIND=()     # server dir -> prosody|ejabberd
declare -A DIR_OF=()   # label (prosody, ejabberd, bad-NAME) -> server dir
declare -A STARTER=()  # label -> pid of the background `start`
BG=()                  # pids of background clients and fake servers

cleanup() {
  local rc=$? p d i alive
  trap - EXIT INT TERM HUP
  # clients, fakes and check blocks: TERM (a block then kills its own
  # clients), KILL whatever is left after 3 s
  for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ((i = 0; i < 150; i++)); do
    alive=0
    for p in "${BG[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.02
  done
  for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # a start still running is bounded by START_TIMEOUT; let it finish so
  # that the stop below finds its server
  for p in "${STARTER[@]}"; do wait "$p" 2>/dev/null; done
  for d in "${!KIND[@]}"; do
    "$SERVERS/${KIND[$d]}.sh" stop "$d" >/dev/null 2>&1 || echo "integration: could not stop $d" >&2
    rm -rf "$d"
  done
  for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

PASSED=0
FAILED=0
pass() {
  echo "ok: $*"
  PASSED=$((PASSED + 1))
}
failed() {
  echo "FAIL: $*"
  FAILED=$((FAILED + 1))
}

elapsed() { # seconds since the start, 0.1 s precision
  local t=${EPOCHREALTIME/./}
  t=$(((t - T0) / 100000))
  echo "$((t / 10)).$((t % 10))"
}

# ---- running the client
# cli ARGS...: runs xmpp-cli (bounded); sets RC, OUT, ERR (files)
N=0
cli() {
  N=$((N + 1))
  OUT=$WORK/run$N.out
  ERR=$WORK/run$N.err
  timeout -k 2 25 "$CLI" "$@" >"$OUT" 2>"$ERR" </dev/null
  RC=$?
}

# stderr without the -v log lines
errlines() { grep -v '^\[' "$ERR"; }

# check DESC WANT_RC [KIND ARG]...: judges the last cli run (RC/OUT/ERR).
#   out RE / err RE     stdout / stderr has a line matching the ERE
#   noerr RE            stderr has no line matching the ERE
#   one                 stderr is exactly one "xmpp-cli: ..." line (failures)
#   quiet               stderr is empty (successes without -v)
#   empty               stdout is empty
check() {
  local desc=$1 want=$2 why="" n
  shift 2
  [ "$RC" = "$want" ] || why="exit status $RC, expected $want"
  while [ $# -gt 0 ]; do
    case $1 in
      out) grep -Eq -- "$2" "$OUT" || why="${why:+$why; }stdout lacks /$2/"; shift 2 ;;
      err) grep -Eq -- "$2" "$ERR" || why="${why:+$why; }stderr lacks /$2/"; shift 2 ;;
      noerr) ! grep -Eq -- "$2" "$ERR" || why="${why:+$why; }stderr has /$2/"; shift 2 ;;
      one)
        n=$(errlines | wc -l)
        { [ "$n" = 1 ] && errlines | grep -q '^xmpp-cli: .'; } ||
          why="${why:+$why; }stderr is not one 'xmpp-cli: ...' line ($n lines)"
        shift ;;
      quiet) [ ! -s "$ERR" ] || why="${why:+$why; }stderr is not empty"; shift ;;
      empty) [ ! -s "$OUT" ] || why="${why:+$why; }stdout is not empty"; shift ;;
      *) why="${why:+$why; }bad check $1"; shift ;;
    esac
  done
  if [ -z "$why" ]; then
    pass "$desc"
  else
    failed "$desc: $why"
    { sed -n '1,5s/^/    stdout: /p' "$OUT"; errlines | sed -n '1,8s/^/    stderr: /p'; } | cut -c1-300
  fi
}

# wait_for FILE ERE PID SECONDS: until FILE has a line matching ERE; fails
# early if PID exits
wait_for() {
  local file=$1 re=$2 pid=$3 deadline=$((${EPOCHREALTIME/./} + $4 * 1000000))
  until grep -Eq -- "$re" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { grep -Eq -- "$re" "$file" 2>/dev/null; return; }
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
    sleep 0.02
  done
}

# wait_exit PID SECONDS: waits for a background job; sets WRC (124 if it had
# to be killed)
wait_exit() {
  local pid=$1 deadline=$((${EPOCHREALTIME/./} + $2 * 1000000))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "${EPOCHREALTIME/./}" -gt "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      WRC=124
      return
    fi
    sleep 0.02
  done
  wait "$pid"
  WRC=$?
}

# ---- fake servers (python, 127.0.0.1 only, one connection each)
cat >"$WORK/fake.py" <<'EOF'
# fake.py MODE PORTFILE LOGFILE: listens on 127.0.0.1 (port chosen by the
# kernel, written to PORTFILE), serves one client, writes all it received to
# LOGFILE when the client goes away (or after 20 s), then exits.
#   closed: bind only, never listen (connections are refused)
#   silent: accept and never say anything
#   notls:  answer the stream header with features that lack <starttls/>
#   plain:  as notls, offering PLAIN, and answer <auth/> with <failure/>
import os, socket, sys, time
mode, portfile, logfile = sys.argv[1:4]
s = socket.socket()
s.bind(("127.0.0.1", 0))
if mode != "closed":
    s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
deadline = time.time() + 20
if mode == "closed":
    time.sleep(20)
    sys.exit(0)
s.settimeout(20)
got = b""
try:
    c, _ = s.accept()
    def more(pred):
        global got
        while not pred(got):
            c.settimeout(max(0.05, deadline - time.time()))
            d = c.recv(65536)
            if not d:
                return False
            got += d
        return True
    def header_end(g):
        i = g.find(b"<stream:stream")
        return -1 if i < 0 else g.find(b">", i)
    if mode != "silent" and more(lambda g: header_end(g) >= 0):
        c.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
                  b" xmlns:stream='http://etherx.jabber.org/streams' from='xmpp.test'"
                  b" id='fake-1' version='1.0' xml:lang='en'><stream:features>"
                  b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  b"<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        if mode == "plain" and more(lambda g: b"</auth>" in g):
            c.sendall(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                      b"<not-authorized/><text>fake server</text></failure>")
    more(lambda g: False)
except (socket.timeout, OSError):
    pass
with open(logfile, "wb") as f:
    f.write(got)
EOF

# fake MODE: starts a fake server; sets FPORT, FPID, FLOG
fake() {
  local pf=$WORK/fake$N.$1.port i
  N=$((N + 1))
  FLOG=$WORK/fake$N.$1.log
  pf=$WORK/fake$N.$1.port
  "$PY" "$WORK/fake.py" "$1" "$pf" "$FLOG" &
  FPID=$!
  BG+=("$FPID")
  for ((i = 0; i < 250; i++)); do
    [ -s "$pf" ] && break
    sleep 0.02
  done
  FPORT=$(cat "$pf" 2>/dev/null)
  [ -n "$FPORT" ] || { failed "fake $1 server did not start"; FPORT=1; }
}

# ---- servers: all started at once, in the background
start_server() { # LABEL KIND [BAD_CERT]
  local label=$1 kind=$2 bad=${3:-} d
  d=$(mktemp -d "/tmp/libxmpp-it-$label.XXXXXX") || return 1
  chmod 755 "$d"
  KIND[$d]=$kind
  DIR_OF[$label]=$d
  BAD_CERT=$bad "$SERVERS/$kind.sh" start "$d" >"$WORK/start-$label.log" 2>&1 &
  STARTER[$label]=$!
}
# await_server LABEL: waits for its start; on success sources its env in a
# subshell-friendly way (prints nothing), else reports a failure
await_server() {
  local label=$1 rc
  wait "${STARTER[$label]}"
  rc=$?
  unset "STARTER[$label]"
  if [ "$rc" != 0 ] || [ ! -f "${DIR_OF[$label]}/env" ]; then
    failed "start $label server (exit $rc)"
    sed 's/^/    /' "$WORK/start-$label.log" | tail -n 15
    return 1
  fi
}

BAD_CERTS="wrongname expired notyet selfsigned unknownca leafsigned v1intermediate"
# generous: a loaded CI machine can be slow; every wait stays bounded
export START_TIMEOUT=${START_TIMEOUT:-60}
start_server prosody prosody
start_server ejabberd ejabberd

export XMPP_IT_PW=pw-alice
unset XMPP_JID

# ---- scenarios without a server (they run while the servers start)

# usage errors: exit 2 before any connection (the --server is there only so
# that a regression could never make the client ask DNS)
U=(--server 127.0.0.1:1)
cli "${U[@]}" --jid alice@xmpp.test --password-env XMPP_IT_PW
check "usage: no command -> 2" 2 err '^usage: xmpp-cli' empty
cli "${U[@]}" --jid alice@xmpp.test --password-env XMPP_IT_PW frobnicate
check "usage: unknown command -> 2" 2 err '^xmpp-cli: .*unknown command frobnicate' empty
cli "${U[@]}" --jid alice@xmpp.test --password secret ping
check "usage: --password on the command line -> 2" 2 one err 'never taken from the command line' empty
cli "${U[@]}" --password-env XMPP_IT_PW ping
check "usage: missing --jid -> 2" 2 one err 'no JID' empty
cli "${U[@]}" --jid alice@xmpp.test ping
check "usage: no password -> 2" 2 one err 'no password' empty
cli "${U[@]}" --jid alice@xmpp.test --password-env XMPP_IT_UNSET_VARIABLE ping
check "usage: --password-env naming an unset variable -> 2" 2 one err 'XMPP_IT_UNSET_VARIABLE' empty
cli "${U[@]}" --jid alice@xmpp.test --password-env XMPP_IT_PW --frob ping
check "usage: unknown option -> 2" 2 err 'unknown option --frob' empty
cli "${U[@]}" --jid alice@xmpp.test --password-env XMPP_IT_PW send bob@xmpp.test
check "usage: send without text -> 2" 2 one err 'send TO TEXT' empty

# a closed port: the fake binds a port without listening, so nothing else can
# take it and the connection is refused
fake closed
cli --jid alice@xmpp.test --password-env XMPP_IT_PW --server "127.0.0.1:$FPORT" ping
check "closed port -> 3" 3 one err 'refused|connect' empty
kill "$FPID" 2>/dev/null

# a peer that accepts and never speaks: --timeout 2 -> 7, in about 2 s
for mode in starttls direct; do
  fake silent
  t=${EPOCHREALTIME/./}
  cli --jid alice@xmpp.test --password-env XMPP_IT_PW --server "127.0.0.1:$FPORT" --tls "$mode" --timeout 2 ping
  t=$(((${EPOCHREALTIME/./} - t) / 1000))
  check "silent server ($mode) with --timeout 2 -> 7" 7 one err 'timed out' empty
  if [ "$t" -ge 1500 ] && [ "$t" -le 6000 ]; then
    pass "silent server ($mode): gave up after $t ms"
  else
    failed "silent server ($mode): gave up after $t ms, expected about 2000"
  fi
  kill "$FPID" 2>/dev/null
done

# TLS required but not offered (TLS-01): exit 4, and the server must have
# received nothing after the client's stream header (no <auth/>, no
# password, not even a closing tag)
fake notls
cli --jid alice@xmpp.test --password-env XMPP_IT_PW --server "127.0.0.1:$FPORT" ping
check "server without STARTTLS -> 4" 4 one err 'TLS is required|STARTTLS' empty
wait_exit "$FPID" 5
hdr_re="^(<\\?xml[^>]*\\?>)?[[:space:]]*<stream:stream[^>]*[^/]>\$"
if [ "$WRC" = 0 ] && [[ "$(cat "$FLOG")" =~ $hdr_re ]]; then
  pass "server without STARTTLS received only the stream header"
else
  failed "server without STARTTLS received more than the stream header (fake exit $WRC): $(head -c 400 "$FLOG")"
fi

# --allow-plaintext: a warning on stderr; authentication then goes ahead in
# the clear (the fake answers <failure/>, hence 5)
fake plain
cli --jid alice@xmpp.test --password-env XMPP_IT_PW --server "127.0.0.1:$FPORT" --allow-plaintext ping
check "--allow-plaintext warns on stderr (fake server refuses auth -> 5)" 5 \
  err '^xmpp-cli: WARNING: .*allow-plaintext' err 'not-authorized' empty
wait_exit "$FPID" 5
if grep -q "<auth[^>]*mechanism=.PLAIN" "$FLOG"; then
  pass "--allow-plaintext: the client authenticated over the plaintext stream"
else
  failed "--allow-plaintext: the fake server got no <auth/>: $(head -c 400 "$FLOG")"
fi

# ---- scenarios against each real server
PWFILE=$WORK/alice.pw
printf 'pw-alice\n' >"$PWFILE"
chmod 600 "$PWFILE"

# listen_bg ARGS...: bob's listener in the background, with -v; sets LPID,
# LOUT, LERR; waits (bounded) until it is logged in
listen_bg() {
  N=$((N + 1))
  LOUT=$WORK/listen$N.out
  LERR=$WORK/listen$N.err
  timeout -k 2 25 "$CLI" -v "$@" >"$LOUT" 2>"$LERR" </dev/null &
  LPID=$!
  BG+=("$LPID")
  wait_for "$LERR" '^xmpp-cli: logged in as ' "$LPID" 15
}

# the JSON lines of a listen run against the expected messages (python's
# strict json parser); ids must be the ones the senders used
check_json() { # DESC FILE
  if "$PY" - "$2" >"$WORK/json.why" 2>&1 <<'EOF'; then
import json, os, sys
want = json.loads(os.environ["XMPP_IT_WANT"])
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
if lines[-1] != "":
    sys.exit("output does not end with a newline")
lines = lines[:-1]
if len(lines) != len(want):
    sys.exit("%d lines, expected %d: %r" % (len(lines), len(want), lines))
for line, w in zip(lines, want):
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit("not JSON (%s): %r" % (e, line))
    if not isinstance(o, dict) or sorted(o) != ["body", "from", "id", "to", "type"]:
        sys.exit("keys are not from, to, type, id, body: %r" % line)
    if not o["from"].startswith(w["from"] + "/"):
        sys.exit("from %r, expected %s/RESOURCE" % (o["from"], w["from"]))
    for k in ("to", "type", "id", "body"):
        if o[k] != w[k]:
            sys.exit("%s is %r, expected %r" % (k, o[k], w[k]))
EOF
    pass "$1"
  else
    failed "$1: $(head -c 600 "$WORK/json.why")"
  fi
}

# the id of the <message/> an `xmpp-cli -v send` put on the wire
sent_id() {
  sed -n -E "s/.*SEND <message[^>]* id=[\"']([^\"']*)[\"'].*/\\1/p" "$ERR" | head -n 1
}

server_scenarios() { # LABEL
  local label=$1 s d pin pin64 m mechs plus vname S SD
  d=${DIR_OF[$label]}
  # shellcheck disable=SC1091
  . "$d/env"
  s=$SERVER_NAME
  S=(--server "127.0.0.1:$XMPP_PORT" --cafile "$XMPP_CAFILE")
  SD=(--server "127.0.0.1:$XMPP_TLS_PORT" --tls direct --cafile "$XMPP_CAFILE")
  A=(--jid "$ALICE_JID" --password-env XMPP_IT_PW)
  export XMPP_IT_PW=$ALICE_PASSWORD XMPP_IT_BOB=$BOB_PASSWORD XMPP_IT_BAD=not-the-password

  # ping over both TLS forms
  cli "${A[@]}" "${S[@]}" --tls starttls ping
  check "$s: ping over STARTTLS -> 0" 0 out '^pong from ' quiet
  cli "${A[@]}" "${SD[@]}" ping
  check "$s: ping over direct TLS -> 0" 0 out '^pong from ' quiet

  # every SASL mechanism offered after TLS (on TLS 1.3), forced with --sasl
  case $s in
    prosody) vname=Prosody mechs="SCRAM-SHA-1 PLAIN" plus="SCRAM-SHA-1-PLUS" ;;
    ejabberd) vname=ejabberd mechs="SCRAM-SHA-512 SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"
      plus="SCRAM-SHA-512-PLUS SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS" ;;
  esac
  for m in $mechs; do
    cli -v "${A[@]}" "${S[@]}" --sasl "$m" ping
    check "$s: login with --sasl $m on TLS 1.3 -> 0" 0 out '^pong from ' \
      err 'TLS1\.3' err "^xmpp-cli: logged in as alice@xmpp\\.test/.* \\($m\\)\$"
  done
  # -PLUS on TLS 1.3: no XEP-0440 channel-binding types advertised, so
  # libxmpp does not bind and the forced mechanism is unavailable
  for m in $plus; do
    cli "${A[@]}" "${S[@]}" --sasl "$m" ping
    check "$s: --sasl $m on TLS 1.3 -> 5 (SASL_NO_MECH)" 5 one err 'SASL_NO_MECH' empty
  done
  # -PLUS on TLS 1.2: channel binding with tls-unique (RFC 5929), over both
  # TLS forms; the default choice is then a -PLUS mechanism
  for m in $plus; do
    cli -v "${A[@]}" "${S[@]}" --tls-max 1.2 --sasl "$m" ping
    check "$s: login with --sasl $m on TLS 1.2 (tls-unique) -> 0" 0 out '^pong from ' \
      err 'TLS1\.2' err "^xmpp-cli: logged in as alice@xmpp\\.test/.* \\($m\\)\$"
  done
  cli -v "${A[@]}" "${SD[@]}" --tls-max 1.2 ping
  check "$s: default mechanism on TLS 1.2 over direct TLS is -PLUS -> 0" 0 out '^pong from ' \
    err 'TLS1\.2' err '^xmpp-cli: logged in as alice@xmpp\.test/.* \(SCRAM-SHA-[0-9]+-PLUS\)$'

  # wrong password: the server's condition on stderr
  cli --jid "$ALICE_JID" --password-env XMPP_IT_BAD "${S[@]}" ping
  check "$s: wrong password -> 5 with not-authorized" 5 one \
    err '^xmpp-cli: authentication failed: not-authorized' empty

  # password from a file
  cli --jid "$ALICE_JID" --password-file "$PWFILE" "${S[@]}" ping
  check "$s: --password-file -> 0" 0 out '^pong from ' quiet

  # version and disco#info of the server
  cli "${A[@]}" "${S[@]}" version "$XMPP_DOMAIN"
  check "$s: version $XMPP_DOMAIN -> 0" 0 out "^name: $vname\$" out '^version: [0-9]' quiet
  cli "${A[@]}" "${S[@]}" disco "$XMPP_DOMAIN"
  check "$s: disco $XMPP_DOMAIN -> 0" 0 out '^identity: server/im' \
    out '^feature: http://jabber\.org/protocol/disco#info$' out '^feature: urn:xmpp:ping$' \
    out '^feature: jabber:iq:version$' quiet

  # an IQ to a full JID with no session: an error reply -> 1
  cli "${A[@]}" "${S[@]}" ping "$BOB_JID/no-such-resource"
  check "$s: ping to an absent full JID -> 1 with service-unavailable" 1 one \
    err "^xmpp-cli: error from $BOB_JID/no-such-resource: service-unavailable" empty

  # SPKI pin (in addition to the CA): right pin -> 0, wrong pin -> 4
  pin=$(openssl x509 -in "$XMPP_SERVER_CERT" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -r | cut -d' ' -f1)
  pin64=$(openssl x509 -in "$XMPP_SERVER_CERT" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
  cli "${A[@]}" "${S[@]}" --pin "$pin" ping
  check "$s: --pin with the server's SPKI SHA-256 (hex) -> 0" 0 out '^pong from ' quiet
  cli "${A[@]}" "${SD[@]}" --pin "sha256/$pin64" ping
  check "$s: --pin sha256/BASE64 over direct TLS -> 0" 0 out '^pong from ' quiet
  cli "${A[@]}" "${S[@]}" --pin "$(printf '%064d' 0)" ping
  check "$s: --pin with a wrong hash -> 4 (pin-mismatch)" 4 one err 'certificate rejected:.*pin-mismatch' empty
  cli "${A[@]}" "${SD[@]}" --pin "$(printf '%064d' 0)" ping
  check "$s: --pin with a wrong hash, direct TLS -> 4 (pin-mismatch)" 4 one \
    err 'certificate rejected:.*pin-mismatch' empty

  # send alice -> bob while bob listens: JSON lines, exact fields
  local b1 b2 b3 id1 id2 id3
  b1='he said "hi" \ back\slash <&> ünïcödé €uro 😀'
  # (no CR: libxmpp sends it as &#13;, but both servers re-serialise it raw
  # and XML end-of-line handling then turns it into LF, as it must)
  b2=$'line one\nline two\ttabbed\n'
  b3=$'ctl\x7f end'
  if listen_bg --jid "$BOB_JID" --password-env XMPP_IT_BOB "${S[@]}" --timeout 20 listen --count 3; then
    cli -v "${A[@]}" "${S[@]}" send "$BOB_JID" "$b1"
    check "$s: send alice -> bob (quotes, backslash, unicode) -> 0" 0 empty
    id1=$(sent_id)
    cli -v "${A[@]}" "${S[@]}" send "$BOB_JID" "$b2"
    check "$s: send alice -> bob (newlines, tab) -> 0" 0 empty
    id2=$(sent_id)
    cli -v "${A[@]}" "${S[@]}" send "$BOB_JID" ${b3% *} "${b3#* }"
    check "$s: send alice -> bob (several words joined) -> 0" 0 empty
    id3=$(sent_id)
    wait_exit "$LPID" 15
    RC=$WRC OUT=$LOUT ERR=$LERR
    check "$s: bob's listen --count 3 exits 0 after 3 messages" 0 noerr '^xmpp-cli: [^l]'
    XMPP_IT_WANT=$("$PY" -c 'import json,sys; a=sys.argv; print(json.dumps([
      {"from": a[1], "to": a[2], "type": "chat", "id": a[3], "body": a[4]},
      {"from": a[1], "to": a[2], "type": "chat", "id": a[5], "body": a[6]},
      {"from": a[1], "to": a[2], "type": "chat", "id": a[7], "body": a[8]}]))' \
      "$ALICE_JID" "$BOB_JID" "$id1" "$b1" "$id2" "$b2" "$id3" "$b3") \
      check_json "$s: listen printed one JSON object per message (from, to, type, id, body)" "$LOUT"
  else
    failed "$s: bob's listener did not log in: $(grep -v "^\[" "$LERR" | tail -n 2)"
    kill -KILL "$LPID" 2>/dev/null
  fi

  # resource conflict: both servers close the OLD session with a <conflict/>
  # stream error ("Replaced by new connection") and bind the new one to the
  # same resource. Prosody: its default conflict_resolve policy, "kick_old"
  # (core/sessionmanager.lua); ejabberd 23.01: always (it has no option for
  # this any more). The first client must exit 6 with "conflict" on stderr.
  if listen_bg --jid "$BOB_JID/same" --password-env XMPP_IT_BOB "${S[@]}" --timeout 20 listen; then
    cli -v --jid "$BOB_JID/same" --password-env XMPP_IT_BOB "${S[@]}" ping
    check "$s: second login as $BOB_JID/same -> 0, bound to that resource" 0 out '^pong from ' \
      err "^xmpp-cli: logged in as $BOB_JID/same "
    wait_exit "$LPID" 10
    RC=$WRC OUT=$LOUT ERR=$LERR
    check "$s: the first $BOB_JID/same session ends with a conflict stream error -> 6" 6 \
      err '^xmpp-cli: stream error: conflict' empty
  else
    failed "$s: bob/same listener did not log in: $(grep -v "^\[" "$LERR" | tail -n 2)"
    kill -KILL "$LPID" 2>/dev/null
  fi
  echo "integration: $s done at $(elapsed) s"
}

# block NAME FUNCTION ARGS...: runs a group of checks in a background
# subshell (the two servers' scenarios run side by side); its output and its
# counts are collected by finish_blocks
declare -A BLOCK_PID=()
BLOCKS=()
block() {
  local name=$1
  shift
  (
    # on TERM (cleanup), take the clients and fakes of this block along
    trap 'for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done; exit 1' TERM
    PASSED=0 FAILED=0 BG=()
    N=$(((${#BLOCKS[@]} + 1) * 10000)) # distinct file names
    "$@"
    echo "$PASSED $FAILED" >"$WORK/block-$name.counts"
  ) >"$WORK/block-$name.log" 2>&1 &
  BLOCK_PID[$name]=$!
  BG+=("$!")
  BLOCKS+=("$name")
}
finish_blocks() {
  local name p f
  for name in "${BLOCKS[@]}"; do
    wait "${BLOCK_PID[$name]}"
    cat "$WORK/block-$name.log"
    if read -r p f <"$WORK/block-$name.counts" 2>/dev/null; then
      PASSED=$((PASSED + p))
      FAILED=$((FAILED + f))
    else
      failed "$name: the checks did not run to the end"
    fi
  done
}

# the two main servers first; the seven bad-certificate Prosodys start once
# they are up (starting all nine at once slows the first ones on 2 cores)
for label in prosody ejabberd; do
  await_server "$label" && block "$label" server_scenarios "$label"
done
echo "integration: servers up at $(elapsed) s"
for b in $BAD_CERTS; do start_server "bad-$b" prosody "$b"; done

# ---- bad certificates (Prosody): rejected over STARTTLS and direct TLS
declare -A WORD=([wrongname]=name-mismatch [expired]=expired [notyet]=not-yet-valid
  [selfsigned]=self-signed [unknownca]=unknown-ca [leafsigned]=signer-not-ca
  [v1intermediate]=signer-not-ca)
for b in $BAD_CERTS; do
  await_server "bad-$b" || continue
  . "${DIR_OF[bad-$b]}/env"
  XMPP_IT_PW=$ALICE_PASSWORD
  cli --jid "$ALICE_JID" --password-env XMPP_IT_PW --server "127.0.0.1:$XMPP_PORT" \
    --cafile "$XMPP_CAFILE" ping
  check "bad certificate $b (STARTTLS) -> 4 (${WORD[$b]})" 4 one \
    err "^xmpp-cli: certificate rejected:.* ${WORD[$b]}( |\$)" empty
  cli --jid "$ALICE_JID" --password-env XMPP_IT_PW --server "127.0.0.1:$XMPP_TLS_PORT" \
    --tls direct --cafile "$XMPP_CAFILE" ping
  check "bad certificate $b (direct TLS) -> 4 (${WORD[$b]})" 4 one \
    err "^xmpp-cli: certificate rejected:.* ${WORD[$b]}( |\$)" empty
  # done with it: stop it now (frees CPU and memory for the rest)
  "$SERVERS/prosody.sh" stop "${DIR_OF[bad-$b]}" >/dev/null 2>&1
done
echo "integration: bad certificates done at $(elapsed) s"

finish_blocks
echo "integration: $PASSED passed, $FAILED failed ($(elapsed) s)"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]

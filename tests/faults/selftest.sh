#!/bin/bash
# Self-test of the TCP fault-injection proxy tests/faults/faultproxy.py.
#
# Run by `make check` (top_srcdir/top_builddir in the environment), or by
# hand: top_srcdir=. tests/faults/selftest.sh
#
# 1. tests/faults/selftest.py: every fault kind against local fake servers
#    (plaintext echo, STARTTLS and direct-TLS servers using a throwaway
#    self-signed certificate made here with openssl or certtool).
# 2. The same proxy driven from bash, the way a shell test would use it:
#    port file, --cmd, /dev/tcp clients.
#
# Prints "ok: ..." / "FAIL: ..." per check and "faults: N passed, M failed".
# Exit 0 if every check passed, 1 otherwise, 77 (skip) without
# /usr/bin/python3.  Only 127.0.0.1; every wait is bounded (< 30 s in all).
set -u
if [ -z "${BASH_VERSION:-}" ]; then
  command -v bash >/dev/null 2>&1 || { echo "faults: SKIP: bash is missing"; exit 77; }
  exec bash "$0" "$@"
fi

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "faults: SKIP: $PY is missing"; exit 77; }
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 1
HERE=$top_srcdir/tests/faults
FP=$HERE/faultproxy.py
T0=${EPOCHREALTIME/./}

WORK=$(mktemp -d /tmp/libxmpp-faults.XXXXXX) || exit 1
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
bounded() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }

# ---- throwaway certificate for the TLS fake servers
CERT_ARGS=()
if command -v openssl >/dev/null 2>&1 &&
   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
     -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 -subj /CN=xmpp.test \
     >"$WORK/cert.log" 2>&1; then
  CERT_ARGS=(--cert "$WORK/cert.pem" --key "$WORK/key.pem")
elif command -v certtool >/dev/null 2>&1 &&
     certtool --generate-privkey --key-type=ecdsa --outfile "$WORK/key.pem" >"$WORK/cert.log" 2>&1 &&
     printf 'cn = xmpp.test\nexpiration_days = 2\n' >"$WORK/cert.tmpl" &&
     certtool --generate-self-signed --load-privkey "$WORK/key.pem" --template "$WORK/cert.tmpl" \
       --outfile "$WORK/cert.pem" >>"$WORK/cert.log" 2>&1; then
  CERT_ARGS=(--cert "$WORK/cert.pem" --key "$WORK/key.pem")
else
  echo "note: neither openssl nor certtool made a certificate; TLS checks are skipped"
  CERT_ARGS=()
fi

# the echo server of part 2 starts now, while part 1 runs
"$PY" -B "$HERE/selftest.py" --serve-echo "$WORK/echo.ports" &
PIDS+=($!)

# ---- part 1: the Python checks
mkdir -p "$WORK/py"
bounded 22 "$PY" -B "$HERE/selftest.py" --work "$WORK/py" "${CERT_ARGS[@]}" >"$WORK/py.out" 2>&1
rc=$?
cat "$WORK/py.out"
n_ok=$(grep -c '^ok: ' "$WORK/py.out")
n_fail=$(grep -c '^FAIL: ' "$WORK/py.out")
PASS=$((PASS + n_ok))
FAIL=$((FAIL + n_fail))
if [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
  fail "selftest.py exited $rc without a FAIL line (timeout or crash)"
fi

# ---- part 2: from bash
fpcmd() { bounded 5 "$PY" -B "$FP" --cmd "$WORK/fp.ports" "$@"; }

for _ in $(seq 100); do [ -s "$WORK/echo.ports" ] && break; sleep 0.05; done
ECHO_PORT=$(sed -n 's/^port=//p' "$WORK/echo.ports" 2>/dev/null)
if [ -z "$ECHO_PORT" ]; then
  fail "bash: echo server did not start"
else
  "$PY" -B "$FP" --listen 127.0.0.1:0 --target "127.0.0.1:$ECHO_PORT" --control 127.0.0.1:0 \
    --port-file "$WORK/fp.ports" --log "$WORK/fp.log" 2>"$WORK/fp.err" &
  FP_PID=$!
  PIDS+=($FP_PID)
  # --cmd waits for the port file itself
  if [ "$(fpcmd ping)" = "ok pong" ]; then ok "bash: proxy up, --cmd reads the port file"; else fail "bash: proxy did not start"; fi
  LPORT=$(sed -n 's/^listen=//p' "$WORK/fp.ports")

  exec 3<>"/dev/tcp/127.0.0.1/$LPORT"
  echo hello >&3
  line=
  read -r -t 2 line <&3
  if [ "$line" = hello ]; then ok "bash: /dev/tcp client echoed through the proxy"; else fail "bash: echo through proxy (got '$line')"; fi
  r=$(fpcmd wait accepted 1 5)
  [ "$r" = "ok accepted=1" ] && ok "bash: wait accepted 1" || fail "bash: wait accepted 1 ($r)"
  r=$(fpcmd reset last)
  out=$(bounded 3 cat <&3 2>&1)
  case $r:$out in
    "ok count=1 conns=1:"*"reset by peer"*) ok "bash: reset last, cat sees 'Connection reset by peer'" ;;
    *) fail "bash: reset last ($r / $out)" ;;
  esac
  exec 3<&-

  fpcmd refuse on >/dev/null
  exec 4<>"/dev/tcp/127.0.0.1/$LPORT"
  line=x
  read -r -t 2 line <&4
  st=$?
  exec 4<&-
  # read: 1 at EOF, >128 on timeout
  if [ "$st" = 1 ] && [ -z "$line" ]; then ok "bash: refuse on closes a new connection at once"; else fail "bash: refuse on (read status $st)"; fi

  out=$(fpcmd - <<'EOF'
refuse off
stats
EOF
)
  case $out in
    "ok refuse=off"$'\n'"ok accepted=1 refused=1 "*" faults=1 reset=1 "*) ok "bash: commands from stdin, stats after reset and refuse" ;;
    *) fail "bash: stats ($out)" ;;
  esac
  fpcmd bogus >/dev/null
  st=$?
  [ "$st" = 1 ] && ok "bash: --cmd exits 1 on err" || fail "bash: --cmd bogus exited $st"

  kill -TERM "$FP_PID"
  st=0
  wait "$FP_PID" || st=$?
  [ "$st" = 0 ] && ok "bash: SIGTERM, exit 0" || fail "bash: proxy exited $st on SIGTERM"
fi

T1=${EPOCHREALTIME/./}
echo "faults: $PASS passed, $FAIL failed ($(( (T1 - T0) / 1000 )) ms)"
[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]

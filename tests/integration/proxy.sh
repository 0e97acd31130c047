#!/bin/bash
# Proxies against real servers: xmpp-cli send + listen through Dante
# (danted, SOCKS5 RFC 1928, username/password RFC 1929 checked against a
# throw-away system user) and tinyproxy (HTTP CONNECT with BasicAuth), to
# a private Prosody and a private ejabberd. Per server: bob listens through
# one proxy, alice sends through the other, and the message arrives; once
# with STARTTLS and a host name the proxy resolves, once with direct TLS
# and credentials. Then, once: a wrong proxy password (SOCKS5 and HTTP),
# a proxy refusing the target (SOCKS5 ruleset, HTTP ConnectPort), a proxy
# that is not listening: each exit 3 with a message naming the cause.
#
# Run by `make check`; skips (77) with XMPP_TESTS_QUICK, without root,
# the servers, danted or tinyproxy. Only 127.0.0.1; every wait bounded;
# everything stopped (and the system user removed) in an EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "proxy.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd) || exit 99
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd) || exit 99
CLI=$top_builddir/examples/xmpp-cli
SERVERS=$top_srcdir/tests/servers
skip() { echo "proxy: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v prosody >/dev/null 2>&1 || skip "prosody is not installed"
[ -x /usr/sbin/ejabberdctl ] || skip "ejabberd is not installed"
command -v danted >/dev/null 2>&1 || skip "danted is not installed (apt-get install dante-server)"
command -v tinyproxy >/dev/null 2>&1 || skip "tinyproxy is not installed (apt-get install tinyproxy)"
for t in useradd userdel chpasswd timeout; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is missing"
done
[ -x "$CLI" ] || { echo "proxy: ERROR: $CLI is not built" >&2; exit 99; }
T0=$SECONDS

WORK=$(mktemp -d /tmp/libxmpp-proxy.XXXXXX) || exit 99
chmod 755 "$WORK"
PUSER=lxpx$$ # the throw-away system user danted checks
PPASS=pw-$RANDOM$RANDOM
HUSER=huser
HPASS=h-pass-$RANDOM
PIDS=()
USER_MADE=
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  "$SERVERS/prosody.sh" stop "$WORK/prosody" >/dev/null 2>&1
  "$SERVERS/ejabberd.sh" stop "$WORK/ejabberd" >/dev/null 2>&1
  [ -n "$USER_MADE" ] && userdel "$PUSER" 2>/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# a free loopback TCP port
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until something listens (5 s)
wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# ---- the servers start in the background while the proxies are set up
"$SERVERS/prosody.sh" start "$WORK/prosody" >"$WORK/prosody.start" 2>&1 &
PSTART=$!
"$SERVERS/ejabberd.sh" start "$WORK/ejabberd" >"$WORK/ejabberd.start" 2>&1 &
ESTART=$!

echo "proxy: servers starting at $((SECONDS - T0)) s"
useradd --system --no-create-home --shell /usr/sbin/nologin "$PUSER" || { echo "FAIL: useradd"; exit 1; }
USER_MADE=1
echo "$PUSER:$PPASS" | chpasswd || { echo "FAIL: chpasswd"; exit 1; }

wait "$PSTART" || { echo "FAIL: prosody did not start"; tail -20 "$WORK/prosody.start"; exit 1; }
wait "$ESTART" || { echo "FAIL: ejabberd did not start"; tail -20 "$WORK/ejabberd.start"; exit 1; }
# shellcheck disable=SC1091
echo "proxy: servers up at $((SECONDS - T0)) s"
P_PORT=$(. "$WORK/prosody/env" && echo "$XMPP_PORT")
P_TLS=$(. "$WORK/prosody/env" && echo "$XMPP_TLS_PORT")
P_HTTP=$(. "$WORK/prosody/env" && echo "$XMPP_HTTP_PORT")
E_PORT=$(. "$WORK/ejabberd/env" && echo "$XMPP_PORT")
E_TLS=$(. "$WORK/ejabberd/env" && echo "$XMPP_TLS_PORT")

# ---- Dante: username/password or none; CONNECT only to the c2s ports
SOCKS_PORT=$(free_port)
{
  echo "logoutput: $WORK/danted.log"
  echo "internal: 127.0.0.1 port = $SOCKS_PORT"
  echo "external: 127.0.0.1"
  echo "socksmethod: username none"
  echo "clientmethod: none"
  echo "user.privileged: root"
  echo "user.unprivileged: nobody"
  echo "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }"
  for p in "$P_PORT" "$P_TLS" "$E_PORT" "$E_TLS"; do
    printf 'socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.1/32 port = %s\n  command: connect\n  log: connect error\n}\n' "$p"
  done
  printf 'socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n  log: connect error\n}\n'
} >"$WORK/danted.conf"
danted -f "$WORK/danted.conf" -N 1 -p "$WORK/danted.pid" >"$WORK/danted.out" 2>&1 &
PIDS+=($!)

# ---- tinyproxy: BasicAuth; CONNECT only to the c2s ports
HTTP_PORT=$(free_port)
mkdir -p "$WORK/tp" && chmod 777 "$WORK/tp"
{
  echo "User nobody"
  echo "Group nogroup"
  echo "Port $HTTP_PORT"
  echo "Listen 127.0.0.1"
  echo "Timeout 30"
  echo "MaxClients 20"
  echo "LogFile \"$WORK/tp/tinyproxy.log\""
  echo "LogLevel Connect"
  echo "PidFile \"$WORK/tp/tinyproxy.pid\""
  echo "BasicAuth $HUSER $HPASS"
  for p in "$P_PORT" "$P_TLS" "$E_PORT" "$E_TLS"; do echo "ConnectPort $p"; done
  echo "Allow 127.0.0.1"
  echo "DisableViaHeader Yes"
} >"$WORK/tinyproxy.conf"
tinyproxy -d -c "$WORK/tinyproxy.conf" >"$WORK/tinyproxy.out" 2>&1 &
PIDS+=($!)
wait_port "$SOCKS_PORT" || { echo "FAIL: danted did not start"; cat "$WORK/danted.out" "$WORK/danted.log"; exit 1; }
wait_port "$HTTP_PORT" || { echo "FAIL: tinyproxy did not start"; cat "$WORK/tinyproxy.out"; exit 1; }

# proxy URLs go through the environment (--proxy-env), like passwords
export SOCKS_NOAUTH="socks5://127.0.0.1:$SOCKS_PORT"
export SOCKS_AUTH="socks5://$PUSER:$PPASS@127.0.0.1:$SOCKS_PORT"
export SOCKS_BADPW="socks5://$PUSER:wrong-$PPASS@127.0.0.1:$SOCKS_PORT"
export HTTP_AUTH="http://$HUSER:${HPASS//-/%2D}@127.0.0.1:$HTTP_PORT/" # percent-decoded
export HTTP_BADPW="http://$HUSER:nope@127.0.0.1:$HTTP_PORT"
export HTTP_NOAUTH="http://127.0.0.1:$HTTP_PORT"

N=0
# exchange NAME DIR SERVERARG TLS BOBPROXYVAR ALICEPROXYVAR
exchange() {
  local name=$1 dir=$2 server=$3 tls=$4 bp=$5 ap=$6 i bpid brc arc text
  N=$((N + 1))
  text="through the proxies $N $RANDOM"
  # shellcheck disable=SC1091
  . "$dir/env"
  export ALICE_PASSWORD BOB_PASSWORD
  local common=(--server "$server" --tls "$tls" --cafile "$XMPP_CAFILE" --timeout 20 -v)
  timeout -k 2 25 "$CLI" --proxy-env "$bp" --jid "$BOB_JID" --password-env BOB_PASSWORD \
    "${common[@]}" listen --count 1 >"$WORK/bob$N.out" 2>"$WORK/bob$N.err" </dev/null &
  bpid=$!
  PIDS+=("$bpid")
  for ((i = 0; i < 200; i++)); do
    grep -q 'xmpp-cli: logged in as' "$WORK/bob$N.err" && break
    kill -0 "$bpid" 2>/dev/null || break
    sleep 0.05
  done
  timeout -k 2 25 "$CLI" --proxy-env "$ap" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
    "${common[@]}" send "$BOB_JID" "$text" >"$WORK/alice$N.out" 2>"$WORK/alice$N.err" </dev/null
  arc=$?
  wait "$bpid"
  brc=$?
  if [ "$arc" = 0 ] && grep -q "through the ${7} proxy 127.0.0.1:" "$WORK/alice$N.err"; then
    ok "$name: alice sent through the ${7} proxy"
  else
    bad "$name: alice exit $arc"; grep -v '^\[debug\]' "$WORK/alice$N.err" | tail -5
  fi
  if [ "$brc" = 0 ] && grep -q "through the ${8} proxy 127.0.0.1:" "$WORK/bob$N.err" &&
    grep -q "\"body\": \"$text\"" "$WORK/bob$N.out"; then
    ok "$name: bob received it through the ${8} proxy"
  else
    bad "$name: bob exit $brc"; grep -v '^\[debug\]' "$WORK/bob$N.err" | tail -5; cat "$WORK/bob$N.out"
  fi
}

# the two servers are exercised in parallel (each in a subshell whose
# ok/FAIL lines are collected below)
for srv in prosody ejabberd; do
  if [ $srv = prosody ]; then port=$P_PORT tport=$P_TLS N=100; else port=$E_PORT tport=$E_TLS N=200; fi
  (
    # STARTTLS, the target as a name (SOCKS5 ATYP 3: danted resolves localhost)
    exchange "$srv starttls" "$WORK/$srv" "localhost:$port" starttls HTTP_AUTH SOCKS_NOAUTH SOCKS5 HTTP
    # direct TLS, the target as an IPv4 literal, SOCKS5 with credentials
    exchange "$srv direct TLS" "$WORK/$srv" "127.0.0.1:$tport" direct SOCKS_AUTH HTTP_AUTH HTTP SOCKS5
  ) >"$WORK/res.$srv" 2>&1 &
  PIDS+=($!)
done
wait "${PIDS[-1]}" "${PIDS[-2]}"
collect() { # counts and prints the lines of result files
  local f
  for f in "$@"; do
    cat "$f"
    passes=$((passes + $(grep -c '^ok:' "$f")))
    fails=$((fails + $(grep -c '^FAIL:' "$f")))
  done
}
collect "$WORK/res.prosody" "$WORK/res.ejabberd"
if grep -q "username%$PUSER@" "$WORK/danted.log" || grep -q "$PUSER" "$WORK/danted.log"; then
  ok "danted logged the authenticated user"
else
  bad "danted did not log user $PUSER"; tail -5 "$WORK/danted.log"
fi
if grep -q "CONNECT localhost:$P_PORT\|CONNECT 127.0.0.1:$P_TLS" "$WORK/tp/tinyproxy.log"; then
  ok "tinyproxy saw the CONNECT requests"
else
  bad "tinyproxy log"; tail -5 "$WORK/tp/tinyproxy.log"
fi

echo "proxy: exchanges done at $((SECONDS - T0)) s"
# ---- failures: exit 3 (network) and a message naming the cause
. "$WORK/prosody/env"
export ALICE_PASSWORD
# negative SERVERARG PROXYVAR RE DESC: in the background, lines to res.negK
K=0
NEG=()
negative() {
  K=$((K + 1))
  (
    e=$WORK/neg$K.err
    timeout -k 2 25 "$CLI" --proxy-env "$2" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
      --server "$1" --cafile "$XMPP_CAFILE" --timeout 20 --no-reconnect ping >/dev/null 2>"$e" </dev/null
    rc=$?
    if [ "$rc" = 3 ] && grep -q "$3" "$e" && ! grep -q -- "$PPASS\|$HPASS" "$e"; then
      ok "$4: exit 3, \"$(grep -m1 "$3" "$e" | cut -c1-110)\""
    else
      bad "$4: exit $rc"; tail -5 "$e"
    fi
  ) >"$WORK/res.neg$K" 2>&1 &
  NEG+=($!)
  PIDS+=($!)
}
negative "127.0.0.1:$P_PORT" SOCKS_BADPW "proxy authentication failed" "SOCKS5 wrong password"
negative "127.0.0.1:$P_PORT" HTTP_BADPW "proxy authentication failed: HTTP 40[17]" "HTTP wrong password"
negative "127.0.0.1:$P_PORT" HTTP_NOAUTH "proxy requires authentication: HTTP 407" "HTTP without credentials"
negative "127.0.0.1:$P_HTTP" SOCKS_NOAUTH "connection not allowed by ruleset" "SOCKS5 refusing the target"
negative "127.0.0.1:$P_HTTP" HTTP_AUTH "refused the connection.*HTTP 403" "HTTP refusing the target"
DEAD=$(free_port)
export SOCKS_DEAD="socks5://127.0.0.1:$DEAD"
negative "127.0.0.1:$P_PORT" SOCKS_DEAD "cannot connect to the SOCKS5 proxy 127.0.0.1:$DEAD" "proxy not listening"
wait "${NEG[@]}"
for ((i = 1; i <= K; i++)); do collect "$WORK/res.neg$i"; done
# a malformed URL is a usage error (2) that does not echo the password
timeout 5 "$CLI" --proxy "socks5://u:$PPASS@127.0.0.1" --jid "$ALICE_JID" --password-env ALICE_PASSWORD \
  ping >"$WORK/url.out" 2>"$WORK/url.err" </dev/null
rc=$?
if [ "$rc" = 2 ] && grep -q "invalid proxy URL: the proxy port" "$WORK/url.err" && ! grep -q "$PPASS" "$WORK/url.err"; then
  ok "malformed proxy URL: exit 2, named, password not echoed"
else
  bad "malformed proxy URL: exit $rc"; cat "$WORK/url.err"
fi
echo "proxy: $passes passed, $fails failed ($((SECONDS - T0)) s)"
[ "$fails" = 0 ]

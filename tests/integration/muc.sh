#!/bin/bash
# Integration test of the "muc" plugin (XEP-0045, XEP-0249, XEP-0410),
# xmpp-cli muc-join/muc-send and examples/muc-bot against a private Prosody
# AND a private ejabberd (tests/servers), each started once.
#
# Per server:
#  - tests/integration/muc_driver plugin: room creation with the
#    configuration form, occupants, messages, private message, subject,
#    nick change (303), self-ping, direct invitation, kick (307), ban and
#    the refused join, destroy;
#  - xmpp-cli: `muc-join ROOM NICK --count 1` prints the message that
#    `muc-send ROOM TEXT` (exit 0 once reflected) sends, as a JSON line
#    with "nick";
#  - muc-bot: the driver creates a room, the bot joins it and answers
#    !ping and !seen, is kicked and rejoins, answers a burst of commands
#    within its rate limit (and logs the dropped replies), comes back
#    after its connection is reset (tests/faults/faultproxy.py), rejoins
#    (recreates) the room after it was destroyed, and logs the room to
#    its log directory.
#
# Prints "ok: ..." / "FAIL: ..." per check, "muc: N passed, M failed".
# Exit 0 if all passed, 1 otherwise, 77 (skip) with XMPP_TESTS_QUICK set,
# without root or without either server (a missing server is reported
# and the other is tested). Only 127.0.0.1; every process under timeout;
# servers and clients stopped in an EXIT trap.
set -u
if [ -n "${XMPP_TESTS_QUICK:-}" ]; then
  echo "muc.sh: SKIP: XMPP_TESTS_QUICK is set"
  exit 77
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CLI=$top_builddir/examples/xmpp-cli
BOT=$top_builddir/examples/muc-bot
DRIVER=$top_builddir/tests/integration/muc_driver
SERVERS=$top_srcdir/tests/servers
FP=$top_srcdir/tests/faults/faultproxy.py
WAIT_S=15

[ "$(id -u)" = 0 ] || { echo "muc: SKIP: needs root"; exit 77; }
have_prosody=0; have_ejabberd=0
command -v prosody >/dev/null 2>&1 && have_prosody=1
command -v ejabberdctl >/dev/null 2>&1 && have_ejabberd=1
[ $have_prosody = 1 ] || [ $have_ejabberd = 1 ] || { echo "muc: SKIP: neither prosody nor ejabberd"; exit 77; }
for b in "$CLI" "$BOT" "$DRIVER"; do
  [ -x "$b" ] || { echo "muc: ERROR: $b is not built" >&2; exit 99; }
done

WORK=$(mktemp -d /tmp/libxmpp-muc.XXXXXX) || exit 99
declare -A SRV=() STARTER=()
BG=()
cleanup() {
  local rc=$? p k
  trap - EXIT INT TERM HUP
  for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
  for k in "${!STARTER[@]}"; do wait "${STARTER[$k]}" 2>/dev/null; done
  for k in "${!SRV[@]}"; do
    "$SERVERS/$k.sh" stop "${SRV[$k]}" >/dev/null 2>&1
    rm -rf "${SRV[$k]}"
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

PASSED=0; FAILED=0
pass() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
failed() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
show() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "    --- ${f##*/}"
    tail -n 10 "$f" | sed 's/^/    /'
  done
}
# wait_line FILE REGEX PID
wait_line() {
  local file=$1 re=$2 pid=$3 i
  for ((i = 0; i < WAIT_S * 20; i++)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -Eq -- "$re" "$file" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}
# counts the driver's ok/FAIL lines into ours
tally() {
  local f=$1 tag=$2 line
  while IFS= read -r line; do
    case $line in
      ok:*) pass "$tag: ${line#ok: }" ;;
      FAIL:*) failed "$tag: ${line#FAIL: }" ;;
      info:*) echo "$tag: $line" ;;
    esac
  done <"$f"
}

# Both servers start at once (in the background) to keep the wall time down.
start_server() {
  local kind=$1
  mkdir -p "$WORK/$kind"
  SRV[$kind]=$(mktemp -d "/tmp/libxmpp-muc-$kind.XXXXXX") || return
  chmod 755 "${SRV[$kind]}"
  START_TIMEOUT=50 timeout 60 "$SERVERS/$kind.sh" start "${SRV[$kind]}" >"$WORK/$kind/start.log" 2>&1 &
  STARTER[$kind]=$!
}

# await_server KIND: waits for its start; STARTED[KIND] is its status
declare -A STARTED=()
await_server() {
  [ -n "${STARTED[$1]:-}" ] && return
  wait "${STARTER[$1]}"
  STARTED[$1]=$?
  unset "STARTER[$1]"
}

run_server() {
  local kind=$1 d="$WORK/$1" rc room pid bp ctl bot_port i resume expect t0=$SECONDS
  await_server "$kind"
  if [ "${STARTED[$kind]}" != 0 ]; then
    show "$d/start.log"; unset "SRV[$kind]" # start removed it
    failed "$kind did not start"
    return
  fi
  # shellcheck disable=SC1091
  . "${SRV[$kind]}/env"
  export ALICE_JID ALICE_PASSWORD BOB_JID BOB_PASSWORD CAROL_JID CAROL_PASSWORD XMPP_HOST XMPP_PORT XMPP_CAFILE

  echo "muc: $kind ready after $((SECONDS - t0)) s of waiting"; t0=$SECONDS
  # ---- the plugin
  timeout -k 2 60 "$DRIVER" plugin "plugin-$kind@$XMPP_MUC_DOMAIN" >"$d/plugin.out" 2>"$d/plugin.err"
  rc=$?
  tally "$d/plugin.out" "$kind plugin"
  [ $rc = 0 ] || { failed "$kind plugin driver exit $rc"; show "$d/plugin.err"; }

  # ---- XEP-0050 requester
  timeout -k 2 30 "$DRIVER" adhoc "$XMPP_DOMAIN" >"$d/adhoc.out" 2>"$d/adhoc.err"
  rc=$?
  tally "$d/adhoc.out" "$kind adhoc"
  [ $rc = 0 ] || { failed "$kind adhoc driver exit $rc"; show "$d/adhoc.err"; }
  echo "muc: $kind plugin checks took $((SECONDS - t0)) s"; t0=$SECONDS
  # ---- xmpp-cli muc-join / muc-send
  room="cli-$kind@$XMPP_MUC_DOMAIN"
  timeout -k 2 30 "$CLI" --jid "$ALICE_JID" --password-env ALICE_PASSWORD --server "$XMPP_HOST:$XMPP_PORT" \
    --cafile "$XMPP_CAFILE" --timeout 20 -v muc-join "$room" listener --count 1 >"$d/join.out" 2>"$d/join.err" &
  pid=$!; BG+=("$pid")
  if wait_line "$d/join.err" "joined $room" "$pid"; then
    pass "$kind: xmpp-cli muc-join joins"
  else
    failed "$kind: xmpp-cli muc-join joins"; show "$d/join.err"
  fi
  timeout -k 2 30 "$CLI" --jid "$BOB_JID" --password-env BOB_PASSWORD --server "$XMPP_HOST:$XMPP_PORT" \
    --cafile "$XMPP_CAFILE" --timeout 20 muc-send "$room" "hello \"room\"" --nick sender >"$d/send.out" 2>"$d/send.err"
  rc=$?
  [ $rc = 0 ] && pass "$kind: xmpp-cli muc-send exits 0 once reflected" || { failed "$kind: muc-send exit $rc"; show "$d/send.err"; }
  wait "$pid"; rc=$?
  if [ $rc = 0 ] && grep -q '"nick": "sender", "body": "hello \\"room\\""' "$d/join.out"; then
    pass "$kind: muc-join prints the message as JSON with its nick, exits 0 after --count 1"
  else
    failed "$kind: muc-join output (exit $rc)"; show "$d/join.out" "$d/join.err"
  fi
  timeout -k 2 20 "$CLI" --jid "$BOB_JID" --password-env BOB_PASSWORD --server "$XMPP_HOST:$XMPP_PORT" \
    --cafile "$XMPP_CAFILE" --timeout 10 muc-send "not a room" x >/dev/null 2>&1
  rc=$?
  [ $rc = 2 ] && pass "$kind: muc-send with a bad room JID is a usage error" || failed "$kind: muc-send bad room exit $rc"

  echo "muc: $kind xmpp-cli checks took $((SECONDS - t0)) s"; t0=$SECONDS
  # ---- the bot
  room="bot-$kind@$XMPP_MUC_DOMAIN"
  mkdir -p "$d/logs"
  # Prosody: the bot resumes its stream after the reset; ejabberd: it is
  # configured not to, so it must join the room again on a new stream
  if [ "$kind" = prosody ]; then resume=yes; expect="resumed the stream"; else resume=no; expect="joining the rooms again"; fi
  # the bot connects through the fault proxy, which resets it on command
  ctl=""; bot_port=$XMPP_PORT
  if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 "$FP" --listen 127.0.0.1:0 --target "127.0.0.1:$XMPP_PORT" --control 127.0.0.1:0 \
      --port-file "$d/proxy.ports" --log "$d/proxy.log" &
    BG+=("$!")
    for ((i = 0; i < 100; i++)); do [ -s "$d/proxy.ports" ] && break; sleep 0.05; done
    bot_port=$(sed -n 's/^listen=//p' "$d/proxy.ports")
    ctl=$(sed -n 's/^control=//p' "$d/proxy.ports")
    [ -n "$bot_port" ] || { echo "muc: the fault proxy did not start: no reset check"; bot_port=$XMPP_PORT; ctl=""; }
  fi
  printf '%s\n' "$CAROL_PASSWORD" >"$d/pw"
  cat >"$d/bot.conf" <<EOF
# muc-bot configuration for the test
jid = $CAROL_JID
password_file = $d/pw
server = $XMPP_HOST:$bot_port
cafile = $XMPP_CAFILE
nick = botty
room = $room
log_dir = $d/logs
rate = 3
rate_period = 1
rejoin_delay = 0.5
resume = $resume
EOF
  timeout -k 2 60 "$DRIVER" bot "$room" botty 3 1 $ctl >"$d/bot-driver.out" 2>"$d/bot-driver.err" &
  pid=$!; BG+=("$pid")
  if wait_line "$d/bot-driver.out" "room ready" "$pid"; then
    timeout -k 2 60 "$BOT" "$d/bot.conf" 2>"$d/bot.err" &
    bp=$!; BG+=("$bp")
    wait "$pid"; rc=$?
    tally "$d/bot-driver.out" "$kind bot"
    [ $rc = 0 ] || { failed "$kind bot driver exit $rc"; show "$d/bot-driver.out" "$d/bot.err"; }
    grep -q "removed from $room (kicked)" "$d/bot.err" && pass "$kind: the bot logs the kick" || failed "$kind: the bot logs the kick"
    grep -q "rate limit: dropped reply" "$d/bot.err" && pass "$kind: the bot logs the replies it drops" || failed "$kind: the bot logs dropped replies"
    grep -q "<owner> !ping" "$d/logs/$room.log" 2>/dev/null && grep -q "<botty> owner: pong" "$d/logs/$room.log" \
      && pass "$kind: the bot logs the room's messages to its log directory" || { failed "$kind: room log"; show "$d/logs/$room.log"; }
    if [ -n "$ctl" ]; then
      grep -q "$expect" "$d/bot.err" \
        && pass "$kind: the bot came back after the reset (resume=$resume: $expect)" \
        || { failed "$kind: the bot logs its reconnection"; show "$d/bot.err"; }
    fi
    kill -TERM "$bp" 2>/dev/null; wait "$bp"; rc=$?
    [ $rc = 0 ] && pass "$kind: the bot stops cleanly on SIGTERM" || failed "$kind: bot exit $rc"
  else
    failed "$kind: bot driver did not create the room"; show "$d/bot-driver.out" "$d/bot-driver.err"
  fi

  echo "muc: $kind bot checks took $((SECONDS - t0)) s"; t0=$SECONDS
  "$SERVERS/$kind.sh" stop "${SRV[$kind]}" >/dev/null 2>&1
  rm -rf "${SRV[$kind]}"; unset "SRV[$kind]"
  echo "muc: $kind stopped in $((SECONDS - t0)) s"
}

# ejabberd (the slower one) starts in the background while Prosody is
# tested; starting both at the same moment overloads a small machine.
if [ $have_prosody = 1 ]; then start_server prosody; await_server prosody; fi
[ $have_ejabberd = 1 ] && start_server ejabberd
if [ $have_prosody = 1 ]; then run_server prosody; else echo "muc: prosody not installed: not tested"; fi
if [ $have_ejabberd = 1 ]; then run_server ejabberd; else echo "muc: ejabberd not installed: not tested"; fi
echo "muc: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

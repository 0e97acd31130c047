# shellcheck shell=bash disable=SC2034
# Shared helpers for prosody.sh and ejabberd.sh (sourced, bash).
# Expects: SERVERS_DIR (this directory), NAME (prosody|ejabberd).

PY=/usr/bin/python3
HELPER="$SERVERS_DIR/helper.py"
GEN_CERTS="$SERVERS_DIR/../certs/gen-certs.sh"
XMPP_DOMAIN_DEFAULT=xmpp.test
# name:password; the first three are the ones most tests use
ACCOUNTS="alice bob carol dave erin frank admin"
# bounded waits (seconds)
START_TIMEOUT=${START_TIMEOUT:-30}
STOP_TIMEOUT=${STOP_TIMEOUT:-5}

die() {
  echo "$NAME.sh: $*" >&2
  exit 1
}

now_ms() {
  local t=${EPOCHREALTIME/./}
  echo "${t:0:-3}"
}

# phase LABEL: with HARNESS_TRACE set, print ms since the script started
T_START=$(now_ms)
phase() {
  [ -z "${HARNESS_TRACE:-}" ] || echo "$NAME.sh: +$(($(now_ms) - T_START)) ms $*" >&2
}

# tail of a log file, indented, to stderr
log_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "---- last lines of $f ----" >&2
    tail -n 30 "$f" | sed 's/^/  /' >&2
  done
}

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || die "missing $c (see tests/servers/README.md for the packages)"
  done
}

# make_absolute DIR: print absolute form of DIR (need not exist yet)
make_absolute() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd -P)" "$1" ;;
  esac
}

# stop_system_service NAME PIDFILE: a distribution-started service would
# hold the standard ports (and, for ejabberd, the node name); if it runs
# (its pidfile names a live process), stop and disable it. Cheap when it
# does not run: no init script is called then (ejabberd's "status" alone
# costs seconds and starts epmd).
stop_system_service() {
  local svc=$1 pidfile=$2 pid
  [ "$(id -u)" = 0 ] || return 0
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  kill -0 "$pid" 2>/dev/null || return 0
  echo "$NAME.sh: stopping and disabling the system $svc service (pid $pid)" >&2
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null 2>&1; then
      update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  fi
  if kill -0 "$pid" 2>/dev/null; then
    kill_wait "$pid" "$STOP_TIMEOUT" || true
  fi
}

# pid_is_ours PID DIR: PID alive and its command line mentions DIR
pid_is_ours() {
  local pid=$1 dir=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/"
}

# pids_in_dir USER DIR: pids of USER's processes whose command line mentions
# DIR (shell builtins only: fast even with many processes)
pids_in_dir() {
  local user=$1 dir=$2 uid d k v rest args
  uid=$(id -u "$user" 2>/dev/null) || return 0
  for d in /proc/[0-9]*; do
    v=""
    while read -r k v rest; do
      [ "$k" = Uid: ] && break
    done 2>/dev/null <"$d/status" || continue
    [ "$v" = "$uid" ] || continue
    args=()
    mapfile -d '' args 2>/dev/null <"$d/cmdline" || continue
    [[ "${args[*]}" == *"$dir/"* ]] || continue
    # skip zombies (exited, waiting for init to reap them)
    read -r k v rest 2>/dev/null <"$d/stat" || continue
    [[ "$rest" == "Z "* ]] && continue
    echo "${d#/proc/}"
  done
  return 0
}

# kill_wait PID TIMEOUT: SIGTERM, wait up to TIMEOUT s, then SIGKILL
# (TIMEOUT 0: SIGKILL at once)
kill_wait() {
  local pid=$1 timeout=$2 deadline sig=TERM
  [ "$timeout" = 0 ] && sig=KILL
  kill -"$sig" "$pid" 2>/dev/null || return 0
  deadline=$(($(now_ms) + timeout * 1000))
  while kill -0 "$pid" 2>/dev/null; do
    # a zombie child of ours counts as gone
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    if [ "$(now_ms)" -gt "$deadline" ]; then
      [ "$sig" = KILL ] || echo "$NAME.sh: pid $pid did not stop within ${timeout}s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(($(now_ms) + 5000))
      while kill -0 "$pid" 2>/dev/null; do
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        [ "$(now_ms)" -gt "$deadline" ] && return 1
        sleep 0.05
      done
      return 0
    fi
    sleep 0.05
  done
  return 0
}

# port_open PORT: true if 127.0.0.1:PORT accepts a TCP connection
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_ports PID TIMEOUT PORT...: wait until every port accepts; fail early
# if PID dies.
wait_ports() {
  local pid=$1 timeout=$2 p deadline
  shift 2
  deadline=$(($(now_ms) + timeout * 1000))
  for p in "$@"; do
    until port_open "$p"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "$NAME.sh: server (pid $pid) exited before port $p opened" >&2
        return 1
      fi
      if [ "$(now_ms)" -gt "$deadline" ]; then
        echo "$NAME.sh: port $p not accepting after ${timeout}s" >&2
        return 1
      fi
      sleep 0.02
    done
  done
}

# check_access FILE: the server user must reach DIR (every parent directory
# searchable by it, e.g. not under /root)
check_access() {
  setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" --clear-groups test -r "$1" ||
    die "the $SERVER_USER user cannot read $1: choose a DIR whose parent directories it can search (e.g. under /tmp)"
}

# write_env FILE: shell-sourceable description of the running server
write_env() {
  local f=$1 u U
  {
    echo "# written by tests/servers/$NAME.sh; source this file"
    echo "SERVER_NAME=$NAME"
    echo "SERVER_PID=$SERVER_PID"
    echo "SERVER_DIR='$DIR'"
    echo "SERVER_LOG='$SERVER_LOG'"
    echo "XMPP_DOMAIN=$DOMAIN"
    echo "XMPP_HOST=127.0.0.1"
    echo "XMPP_PORT=$C2S_PORT"
    echo "XMPP_TLS_PORT=$TLS_PORT"
    echo "XMPP_HTTP_PORT=$HTTP_PORT"
    echo "XMPP_MUC_DOMAIN=conference.$DOMAIN"
    echo "XMPP_CAFILE='$DIR/certs/ca.pem'"
    echo "XMPP_CERTDIR='$DIR/certs'"
    echo "XMPP_BAD_CERT=${BAD_CERT:-}"
    echo "XMPP_SASL2=${SASL2_OK:-0}"
    echo "XMPP_USERS='$ACCOUNTS'"
    for u in $ACCOUNTS; do
      U=${u^^}
      echo "${U}_JID=$u@$DOMAIN"
      echo "${U}_PASSWORD=pw-$u"
    done
    [ -z "${EXTRA_ENV:-}" ] || printf '%s\n' "$EXTRA_ENV"
    echo "export SERVER_NAME SERVER_PID SERVER_DIR SERVER_LOG XMPP_DOMAIN XMPP_HOST XMPP_PORT XMPP_TLS_PORT XMPP_HTTP_PORT XMPP_MUC_DOMAIN XMPP_CAFILE XMPP_CERTDIR XMPP_BAD_CERT XMPP_SASL2 XMPP_USERS"
    printf 'export'
    for u in $ACCOUNTS; do
      U=${u^^}
      printf ' %s_JID %s_PASSWORD' "$U" "$U"
    done
    echo
  } >"$f.tmp"
  mv "$f.tmp" "$f"
}

account_args() {
  local u
  for u in $ACCOUNTS; do printf '%s:pw-%s ' "$u" "$u"; done
}

# common_stop DIR: stop the server recorded in DIR, remove DIR
common_stop() {
  local dir=$1 pid=""
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  [ -f "$dir/server.pid" ] && pid=$(cat "$dir/server.pid")
  if [ -n "$pid" ] && pid_is_ours "$pid" "$dir"; then
    kill_wait "$pid" "$STOP_TIMEOUT" || echo "$NAME.sh: could not stop pid $pid" >&2
  fi
  # anything else the server user still runs from this directory
  local p
  for p in $(pids_in_dir "$SERVER_USER" "$dir"); do
    [ "$p" = $$ ] || kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$dir"
}

# install_certs CERTDIR DOMAIN: the test PKI from tests/certs/gen-certs.sh.
# Generated once per (script version, domain) into a private cache under
# $TMPDIR and copied from there (generation takes ~1 s, a copy ~10 ms).
# XMPP_CERT_CACHE=0 disables the cache.
install_certs() {
  local out=$1 domain=$2 root sum final tmp
  if [ "${XMPP_CERT_CACHE:-1}" = 0 ]; then
    "$GEN_CERTS" "$out" "$domain"
    return
  fi
  root=${TMPDIR:-/tmp}/libxmpp-test-certs-$(id -u)
  [ -d "$root" ] || mkdir -m 700 "$root" 2>/dev/null || true
  if [ ! -d "$root" ] || [ ! -O "$root" ] || [ -L "$root" ]; then
    "$GEN_CERTS" "$out" "$domain"
    return
  fi
  sum=$(md5sum <"$GEN_CERTS" | cut -c1-12)
  final=$root/$sum-$domain
  if [ ! -f "$final/.complete" ]; then
    # a directory without the marker is debris (the marker is inside
    # before the atomic rename)
    [ -d "$final" ] && rm -rf "$final"
    tmp=$(mktemp -d "$root/tmp.XXXXXX")
    "$GEN_CERTS" "$tmp" "$domain" || { rm -rf "$tmp"; return 1; }
    : >"$tmp/.complete"
    mv -T "$tmp" "$final" 2>/dev/null || rm -rf "$tmp"
    [ -f "$final/.complete" ] || return 1
  fi
  mkdir -p "$out"
  cp -p "$final"/*.pem "$final"/.gen-certs-* "$out"/
}
